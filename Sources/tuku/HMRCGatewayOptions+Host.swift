import Crypto
import Foundation
import NIOCore
import TukuHMRC

#if canImport(Glibc)
import Glibc
#endif

extension HMRCGatewayOptions {
    /// What HMRC's `BATCH_PROCESS_DIRECT` headers say about the filing process itself, read from this host once at
    /// start: its device id, local addresses, MAC addresses, time zone, operating system, hardware and account.
    enum HostValues {
        /// The host's values, or `nil` when even the device id cannot be had. Unusable values (no MAC address, say)
        /// are left for ``FraudPreventionHeaders`` to name.
        static func batchProcess(deviceID configured: String?) -> FraudPreventionHeaders.Configuration.BatchProcess? {
            guard let deviceID = configured ?? self.machineDeviceID() else { return nil }
            var system = utsname()
            uname(&system)
            func text<T>(_ field: T) -> String {
                withUnsafeBytes(of: field) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            }
            let user = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "uid-\(getuid())"
            return .init(
                deviceID: deviceID, localIPs: self.localAddresses(), macAddresses: self.macAddresses(), timezone: self.timezone(),
                osFamily: "Linux", osVersion: text(system.release),
                deviceManufacturer: self.firstLine("/sys/class/dmi/id/sys_vendor") ?? "Unknown",
                deviceModel: self.firstLine("/sys/class/dmi/id/product_name") ?? text(system.machine),
                userIDs: ["os": user])
        }

        /// A UUID derived from `/etc/machine-id` (stable for the installation, and not the machine id itself, which
        /// systemd asks not to expose).
        static func machineDeviceID() -> String? {
            guard let machineID = self.firstLine("/etc/machine-id"), !machineID.isEmpty else { return nil }
            var bytes = Array(SHA256.hash(data: Data("tuku-hmrc-device:\(machineID)".utf8)).prefix(16))
            bytes[6] = (bytes[6] & 0x0F) | 0x50  // version 5 layout (name-based)
            bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
            let uuid = UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                    bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
            return uuid.uuidString.lowercased()
        }

        /// The host's IP addresses other than loopback.
        static func localAddresses() -> [String] {
            let devices = (try? System.enumerateDevices()) ?? []
            var addresses: [String] = []
            for device in devices {
                guard let ip = device.address?.ipAddress, ip != "127.0.0.1", ip != "::1", !addresses.contains(ip) else { continue }
                addresses.append(ip)
            }
            return addresses
        }

        /// The MAC addresses of the host's network interfaces, loopback and all-zero ones left out.
        static func macAddresses() -> [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
            return names.sorted().compactMap { name in
                guard name != "lo", let address = self.firstLine("/sys/class/net/\(name)/address"),
                    address != "00:00:00:00:00:00", address.count == 17
                else { return nil }
                return address
            }
        }

        /// `UTC±hh:mm` of the process's time zone now.
        static func timezone() -> String {
            let offset = TimeZone.current.secondsFromGMT()
            let minutes = abs(offset) / 60
            return String(format: "UTC%@%02d:%02d", offset < 0 ? "-" : "+", minutes / 60, minutes % 60)
        }

        /// Lowercase hex SHA-256 of `text` (HMRC asks for hashed licence keys).
        static func sha256Hex(_ text: String) -> String {
            SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        }

        private static func firstLine(_ path: String) -> String? {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            let line = text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return line.isEmpty ? nil : line
        }
    }
}
