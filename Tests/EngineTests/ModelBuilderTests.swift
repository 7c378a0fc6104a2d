import Foundation
import Testing
@testable import Engine
@testable import NN

/// `Arch` keys that tune the zoo: `bn_momentum` reaches every BatchNorm of any family,
/// `faithful` is refused where it would mean nothing.
@Suite struct ModelBuilderTests {
    static func momenta(_ yaml: String) throws -> Set<Float> {
        let model = try ModelBuilder.build(Config(yaml: yaml)).model
        return Set(model.namedModules().compactMap { ($0.1 as? BatchNorm)?.momentum })
    }

    @Test func bnMomentumReachesEveryBatchNormOfAnyFamily() throws {
        #expect(try Self.momenta("Arch:\n  name: ResNet18\n  class_num: 4\n") == [0.1])  // PyTorch's
        #expect(try Self.momenta("Arch:\n  name: ResNet18\n  class_num: 4\n  bn_momentum: 0.05\n") == [0.05])
        #expect(try Self.momenta("Arch:\n  name: PPLCNet_x0_25\n  class_num: 4\n  bn_momentum: 0.2\n") == [0.2])
        #expect(try Self.momenta("Arch:\n  name: WideResNet28_2\n") == [0.001])  // kekmodel's
        let rec = "Arch:\n  name: RecModel\n  Backbone:\n    name: MobileNetV3_small_x0_35\n    bn_momentum: 0.03\n"
        #expect(try Self.momenta(rec) == [0.03])
        #expect(throws: ConfigError.self) { try Self.momenta("Arch:\n  name: ResNet18\n  bn_momentum: 2\n") }
    }

    @Test func faithfulIsRefusedOutsideWideResNet() throws {
        #expect(throws: ConfigError.self) { try ModelBuilder.build(Config(yaml: "Arch:\n  name: ResNet18\n  faithful: false\n")) }
        let rec = "Arch:\n  name: RecModel\n  Backbone:\n    name: PPLCNet_x0_25\n    faithful: true\n"
        #expect(throws: ConfigError.self) { try ModelBuilder.build(Config(yaml: rec)) }
        #expect(try ModelBuilder.build(Config(yaml: "Arch:\n  name: WideResNet28_2\n  faithful: false\n")).arch == "WideResNet28_2")
    }
}
