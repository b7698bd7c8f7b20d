import Foundation
import NIOHTTP1
import TukuCore
import TukuGateway
import TukuHMRC

extension HMRCVATHandler {
    /// One answer from HMRC, as read for classification: status, headers and body.
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data

        /// The answer as input to ``HMRCOutcomeClassifier``.
        var exchange: HMRCExchange { .response(status: self.status, headers: self.headers, body: self.body) }
    }
}

extension GatewayDialect where Answer == HMRCVATHandler.Answer {
    /// HMRC's VAT (MTD) API: JSON answers classified by HMRC's outcome table (``HMRCOutcomeClassifier``,
    /// `docs/hmrc.md`) for `operation`; a filed return's receipt (`Receipt-ID`, `Receipt-Timestamp`,
    /// `X-CorrelationId` and the body's `processingDate`, `formBundleNumber`, `chargeRefNumber`) goes on the
    /// exchange row, its `formBundleNumber` as the row's gateway id.
    static func hmrc(operation: HMRCRequest.Operation, classifier: HMRCOutcomeClassifier) -> Self {
        GatewayDialect(
            parse: { response in
                HMRCVATHandler.Answer(
                    status: Int(response.status.code), headers: response.headers, body: Data(response.body.readableBytesView))
            },
            classify: { exchange in
                switch exchange {
                case .response(_, _, let answer):
                    classifier.classify(answer.exchange, operation: operation, now: Date()).gatewayOutcome
                case .noResponse(let requestSent):
                    classifier.classify(.noResponse(requestSent: requestSent), operation: operation, now: Date()).gatewayOutcome
                }
            },
            fill: { record, answer in
                guard operation == .submitReturn, (200..<300).contains(answer.status) else { return }
                let receipt = HMRCOutcomeClassifier.receipt(headers: answer.headers, body: answer.body)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                record.receipt = (try? encoder.encode(receipt)).map { String(decoding: $0, as: UTF8.self) }
                record.gatewayID = receipt.formBundleNumber ?? receipt.receiptID
            })
    }
}
