import Testing
@testable import Models
@testable import NN
@testable import TensorCore

@Suite struct ParameterCountTests {
    /// Published (torchvision meta) and hand-computed (from the architectures' layer tables) exact counts.
    static let exact: [(String, Int)] = [
        ("ResNet18", 11_689_512), ("ResNet34", 21_797_672), ("ResNet50", 25_557_032),
        ("ResNet101", 44_549_160), ("ResNet152", 60_192_808),
        ("ResNet18_vd", 11_712_968), ("ResNet34_vd", 21_821_128), ("ResNet50_vd", 25_576_264),
        ("ResNet50_vc", 25_576_264), ("ResNet101_vd", 44_568_392), ("ResNet152_vd", 60_212_040),
        ("ResNet200_vd", 74_738_504),
        ("SE_ResNet18_vd", 11_802_048), ("SE_ResNet34_vd", 21_982_324), ("SE_ResNet50_vd", 28_107_256),
        ("WideResNet28_2", 1_467_610), ("PPLCNet_x1_0", 2_952_520),
        // EfficientNet-Lite: the PyTorch port's counts (4.65 M, 5.42 M, 6.09 M, 8.20 M, 13.01 M published).
        ("EfficientNet_lite0", 4_652_008), ("EfficientNet_lite1", 5_416_680), ("EfficientNet_lite2", 6_092_072),
        ("EfficientNet_lite3", 8_197_096), ("EfficientNet_lite4", 13_006_568),
    ]

    @Test(arguments: exact)
    func matchesPublishedCount(entry: (String, Int)) throws {
        let model = try ModelRegistry.make(entry.0)
        #expect(model.parameterCount == entry.1, "\(entry.0)")
    }

    @Test func paddleClasFirstShortConvAddsItsShortcut() throws {
        var options = ModelOptions()
        options.useFirstShortConv = true
        #expect(try ModelRegistry.make("ResNet18", options: options).parameterCount == 11_693_736)
        #expect(try ModelRegistry.make("ResNet34", options: options).parameterCount == 21_801_896)
    }

    @Test func personExistsAndScaledLCNets() throws {
        #expect(try ModelRegistry.make("PPLCNet_x1_0", options: ModelOptions(classNum: 2)).parameterCount == 1_674_082)
        // Published to two decimals (PaddleClas docs / spec): x2_5 9.02 M, x0_25 1.52 M.
        #expect(abs(Double(try ModelRegistry.make("PPLCNet_x2_5").parameterCount) / 1e6 - 9.02) < 0.005)
        #expect(abs(Double(try ModelRegistry.make("PPLCNet_x0_25").parameterCount) / 1e6 - 1.52) < 0.005)
    }

    @Test func mobileNetV3MatchesSpecSizes() throws {
        #expect(abs(Double(try ModelRegistry.make("MobileNetV3_large_x1_0").parameterCount) / 1e6 - 5.48) < 0.005)
        #expect(abs(Double(try ModelRegistry.make("MobileNetV3_small_x1_0").parameterCount) / 1e6 - 2.94) < 0.005)
        #expect(abs(Double(try ModelRegistry.make("MobileNetV3_small_x0_35").parameterCount) / 1e6 - 1.67) < 0.005)
    }

    @Test func unknownNameSuggestsTheClosest() {
        do {
            _ = try ModelRegistry.make("resnet50vd")
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("ResNet50_vd"))
        }
    }
}

@Suite struct MACCountTests {
    /// GMACs (convolutions + fully connected, one image), computed by hand from the layer tables.
    static let published: [(String, Double)] = [
        ("ResNet18", 1.814), ("WideResNet28_2", 0.214), ("PPLCNet_x1_0", 0.156), ("MobileNetV3_small_x1_0", 0.060),
    ]

    @Test(arguments: published)
    func matchesPublishedGMACs(entry: (String, Double)) throws {
        let e = try ModelRegistry.entry(entry.0)
        let model = try e.make()
        model.eval()
        let x = Tensor.zeros([1, 3, e.inputSize, e.inputSize])
        let macs = withNoGrad { OpCounter.counting { model(x) }.1 }
        #expect(abs(Double(macs) / 1e9 - entry.1) < 0.0005, "\(entry.0): \(Double(macs) / 1e9) GMACs")
    }
}

@Suite struct RecModelTests {
    /// The XBM SOP recipe's model: ResNet-50 without fc + FC 2048→128 = 23,770,304 parameters.
    @Test func xbmModelSizeAndKeys() throws {
        var options = ModelOptions(classNum: 0)
        options.stemAct = nil
        options.pooling = .max
        let model = try RecModel(backbone: "ResNet50", options: options, embeddingSize: 128)
        #expect(model.parameterCount == 23_770_304)
        let keys = model.stateDict().map(\.0)
        #expect(keys.first == "backbone.conv1.weight")
        #expect(keys.suffix(2) == ["neck.fc.weight", "neck.fc.bias"])
        #expect(!keys.contains("backbone.fc.weight"))
        var rng = RNG(seed: 1)
        #expect(model(Tensor.randn([2, 3, 64, 64], rng: &rng)).shape == [2, 128])
    }
}
