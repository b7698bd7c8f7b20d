import Foundation
import Testing
import TukuSandbox
import TukuTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `POST /sandbox/grant` and `POST /sandbox/hmrc/grant` mint tokens with no consent and no client secret (issue #11,
/// defect 9): they answer loopback peers only unless the sandbox was started with `--allow-remote-grant`. The sandbox binds every address
/// here and is reached over real TLS through this machine's own non-loopback address, so the peer it sees is not
/// loopback.
@Suite("Sandbox grant: loopback peers only by default")
struct SandboxGrantAccessTests {
    /// This machine's first IPv4 address that is not loopback, if it has one.
    static func nonLoopbackAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0
            else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !text.hasPrefix("127.") { return text }
        }
        return nil
    }

    static let ird = (path: "/sandbox/grant", body: #"{"client_id":"\#(Sandbox.clientID)","tenants":["employer-01"]}"#)
    static let hmrc = (path: "/sandbox/hmrc/grant", body: #"{"client_id":"hmrc-app","vrns":["123456789"]}"#)

    /// Turns on the HMRC personality with one application, `hmrc-app`.
    static func withHMRC(_ configuration: inout SandboxServer.Configuration) {
        configuration.hmrc = HMRCConfiguration(applications: [RegisteredClient(id: "hmrc-app", secret: "hmrc-app-secret")])
    }

    /// The HTTP status of a grant (`/sandbox/grant` unless told) sent with curl to the one-way TLS port at
    /// `address`, with the certificate checked for `localhost` (the test server certificate's name).
    func grantStatus(
        _ sandbox: Sandbox, via address: String, grant: (path: String, body: String) = Self.ird
    ) async throws -> Int {
        let port = sandbox.addresses.oneWayTLSPort
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = [
            "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "--cacert", sandbox.certificates.path("ca.pem"),
            "--resolve", "localhost:\(port):\(address)", "-H", "Content-Type: application/json",
            "--data-binary", grant.body, "https://localhost:\(port)\(grant.path)",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        // Waits without blocking a thread of the cooperative pool: the sandbox answering curl runs on it too.
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        try #require(status == 0, "curl failed")
        return try #require(Int(String(decoding: output, as: UTF8.self)))
    }

    @Test("a peer that is not loopback gets 403 from /sandbox/grant and /sandbox/hmrc/grant; loopback gets tokens")
    func remotePeerRefused() async throws {
        let address = try #require(Self.nonLoopbackAddress(), "this test needs a non-loopback IPv4 address")
        try await Sandbox.run({
            $0.host = "0.0.0.0"
            Self.withHMRC(&$0)
        }) { sandbox in
            for grant in [Self.ird, Self.hmrc] {
                let remote = try await self.grantStatus(sandbox, via: address, grant: grant)
                let loopback = try await self.grantStatus(sandbox, via: "127.0.0.1", grant: grant)
                #expect(remote == 403, "\(grant.path)")
                #expect(loopback == 200, "\(grant.path)")
            }
        }
    }

    @Test("--allow-remote-grant lets a peer that is not loopback have tokens")
    func remotePeerAllowed() async throws {
        let address = try #require(Self.nonLoopbackAddress(), "this test needs a non-loopback IPv4 address")
        try await Sandbox.run({
            $0.host = "0.0.0.0"
            $0.grantsToRemotePeers = true
            Self.withHMRC(&$0)
        }) { sandbox in
            for grant in [Self.ird, Self.hmrc] {
                let remote = try await self.grantStatus(sandbox, via: address, grant: grant)
                #expect(remote == 200, "\(grant.path)")
            }
        }
    }

    @Test("the default configuration binds loopback and refuses remote grants")
    func defaults() {
        let configuration = SandboxServer.Configuration(
            tls: .init(certificatePath: "server.pem", privateKeyPath: "server.key", clientCAPath: "ca.pem"), oauth: .init(clients: []))
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.grantsToRemotePeers == false)
    }
}
