import Testing
@testable import Engine

@Suite struct ConfigTests {
    static let yaml = """
    Global:
      epochs: 35
      feature_normalize: True
      output_dir: ./output/
    Arch:
      name: RecModel
      Backbone:
        name: ResNet50
        stem_act: null
      Neck:
        name: FC
        embedding_size: &feat_dim 2048
        class_num: &dim 128
    Loss:
      Train:
        - ContrastiveLoss_XBM:
            weight: 1.0
            embedding_size: *dim
    DataLoader:
      Train:
        dataset:
          transform_ops:
            - DecodeImage:
                to_rgb: True
            - NormalizeImage:
                scale: 1.0/255.0
                mean: [0.485, 0.456, 0.406]
            - ToCHWImage:
    """

    @Test func typedAccessAnchorsAndFractions() throws {
        let c = try Config(yaml: Self.yaml, path: "x.yaml")
        let g = c.section("Global")
        #expect(try g.int("epochs") == 35)
        #expect(try g.bool("feature_normalize") == true)
        let arch = c.section("Arch")
        #expect(try arch.section("Backbone").string("stem_act") == nil)
        #expect(try arch.section("Neck").int("class_num") == 128)
        let loss = try c.section("Loss").namedList("Train")
        #expect(loss.map(\.name) == ["ContrastiveLoss_XBM"])
        #expect(try loss[0].params.int("embedding_size") == 128)
        let ops = try c.section("DataLoader").section("Train").section("dataset").namedList("transform_ops")
        #expect(ops.map(\.name) == ["DecodeImage", "NormalizeImage", "ToCHWImage"])
        #expect(abs(try ops[1].params.double("scale")! - 1.0 / 255.0) < 1e-12)
        #expect(try ops[1].params.doubles("mean") == [0.485, 0.456, 0.406])
    }

    @Test func overridesTypeValuesAndCreateKeys() throws {
        let c = try Config(yaml: Self.yaml, path: "x.yaml")
        try c.apply(overrides: ["Global.epochs=10", "Global.eval_interval=2", "Arch.Backbone.stem_act=relu",
                                "DataLoader.Train.dataset.transform_ops.1.NormalizeImage.mean=[0.5, 0.5, 0.5]",
                                "Global.feature_normalize=False"])
        #expect(try c.section("Global").int("epochs") == 10)
        #expect(try c.section("Global").int("eval_interval") == 2)
        #expect(try c.section("Global").bool("feature_normalize") == false)
        #expect(try c.section("Arch").section("Backbone").string("stem_act") == "relu")
        let ops = try c.section("DataLoader").section("Train").section("dataset").namedList("transform_ops")
        #expect(try ops[1].params.doubles("mean") == [0.5, 0.5, 0.5])
        #expect(throws: ConfigError.self) { try c.apply(overrides: ["Global.epochs"]) }
        #expect(throws: ConfigError.self) { try c.apply(overrides: ["DataLoader.Train.dataset.transform_ops.9.X=1"]) }
    }

    @Test func wrongTypesNameTheKeyAndFile() throws {
        let c = try Config(yaml: "Global:\n  epochs: ten\n", path: "bad.yaml")
        do {
            _ = try c.section("Global").int("epochs")
            Issue.record("no error")
        } catch {
            #expect("\(error)" == "bad.yaml: 'Global.epochs' must be an integer, got 'ten'")
        }
    }

    @Test func unknownKeysAreRejectedWithSuggestions() throws {
        let c = try Config(yaml: "Global:\n  epocs: 3\n  output_dir: out\nArhc:\n  name: X\n", path: "typo.yaml")
        _ = try c.section("Global").int("epochs")
        _ = try c.section("Global").string("output_dir")
        _ = try c.section("Arch").string("name")
        do {
            try c.checkUnknownKeys()
            Issue.record("typos accepted")
        } catch let error as ConfigError {
            let text = error.description
            #expect(text.contains("'Global.epocs' (did you mean 'Global.epochs'?)"))
            #expect(text.contains("'Arhc' (did you mean 'Arch'?)"))
            #expect(text.hasPrefix("typo.yaml: unknown keys"))
        }
    }

    @Test func yamlRoundTripPreservesTheTree() throws {
        let c = try Config(yaml: Self.yaml)
        let again = try Config(yaml: c.yaml)
        #expect(again.root == c.root)
        #expect(throws: ConfigError.self) { try Config(yaml: "- a\n- b\n") }
        #expect(throws: ConfigError.self) { try Config(yaml: "Global: [unclosed\n") }
    }
}

@Suite struct ConfigNumberTests {
    @Test func listsAcceptFractionsAndRejectJunk() throws {
        let c = try Config(yaml: "A:\n  ok: [1, 0.5, \"1.0/4.0\"]\n  bad: [\"x/2\"]\n", path: "n.yaml")
        #expect(try c.section("A").doubles("ok") == [1, 0.5, 0.25])
        #expect(throws: ConfigError.self) { try c.section("A").doubles("bad") }
    }
}
