/// The tiny retrieval model the tests embed with (PP-LCNet x0.25 + FC neck at 32 px, random
/// weights from the fixed-seed initialiser) and its eval preprocessing, as config YAML.
public enum TinyRetrieval {
    /// `transform_ops` entries (Resize 32, CenterCrop 32, ToTensor, Normalize 0.5), indented.
    public static func evalOps(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        return ["- Resize:", "    size: 32", "- CenterCrop:", "    size: 32", "- ToTensor:", "- Normalize:",
                "    mean: [0.5, 0.5, 0.5]", "    std: [0.5, 0.5, 0.5]"].map { pad + $0 }.joined(separator: "\n")
    }

    /// The `Arch` section: RecModel with a PPLCNet_x0_25 backbone and an FC neck of `dimension`.
    public static func arch(dimension: Int) -> String {
        """
        Arch:
          name: RecModel
          Backbone:
            name: PPLCNet_x0_25
          Neck:
            name: FC
            embedding_size: 1280
            class_num: \(dimension)
        """
    }

    /// An inference config: `Global`, `Arch` and the eval dataset's `transform_ops`, under
    /// `DataLoader.Eval.Gallery` when `gallerySplit`, else `DataLoader.Eval`.
    public static func inferenceConfig(dimension: Int, gallerySplit: Bool, global: String = "  seed: 1\n  feature_normalize: True") -> String {
        let split = gallerySplit ? "    Gallery:\n      dataset:\n        name: SOP\n        transform_ops:\n" + evalOps(indent: 10)
                                 : "    dataset:\n      name: SOP\n      transform_ops:\n" + evalOps(indent: 8)
        return "Global:\n\(global)\n" + arch(dimension: dimension) + "\nDataLoader:\n  Eval:\n" + split + "\n"
    }
}
