import Foundation
import Models
import NN
import TensorCore

/// `Arch` of a classification config → the model to train (and to infer with) plus, for
/// PaddleClas's `DistillationModel`, a frozen teacher:
///
///     Arch: {name: ResNet50, class_num: 1000}
///     Arch:
///       name: DistillationModel
///       freeze_params_list: [True, False]     # the teacher is frozen, the student trains
///       models:
///         - Teacher: {name: ResNet101_vd, class_num: 2, pretrained: output/ResNet101_vd/best_model}
///         - Student: {name: PPLCNet_x1_0, class_num: 2}
///       infer_model_name: Student
///
/// `pretrained` may name a checkpoint (prefix or .safetensors) to load; `True` would download
/// ImageNet weights in PaddleClas and is rejected here with a hint (no downloads).
public enum ClassifierBuilder {
    public struct Built {
        public let model: Layer
        public let arch: String
        public let classNum: Int
        public let inputSize: Int
        /// The frozen teacher of a distillation config (eval mode, weights loaded).
        public let teacher: Layer?
        public let teacherArch: String?
    }

    /// - Parameter loadTeacher: false skips the teacher (evaluation and prediction need only the student).
    public static func build(_ config: Config, loadTeacher: Bool = true) throws -> Built {
        let arch = config.section("Arch")
        let name = try arch.requiredString("name")
        guard name == "DistillationModel" else {
            let (model, classNum, inputSize) = try member(arch, name: name, config: config)
            return Built(model: model, arch: name, classNum: classNum, inputSize: inputSize, teacher: nil, teacherArch: nil)
        }
        _ = try arch.int("class_num"); _ = try arch.bool("use_sync_bn")
        arch.ignore("pretrained_list")
        let models = try arch.namedList("models")
        let inferName = try arch.string("infer_model_name", default: "Student")
        guard let teacherEntry = models.first(where: { $0.name == "Teacher" }), let studentEntry = models.first(where: { $0.name == inferName }),
              models.count == 2 else {
            throw ConfigError.invalidValue(path: config.path, key: "Arch.models",
                                           reason: "a DistillationModel needs two models named Teacher and \(inferName), got \(models.map(\.name))")
        }
        if let node = arch.raw("freeze_params_list") {
            let teacherIndex = models.firstIndex { $0.name == "Teacher" }!
            guard case let .list(flags) = node, flags.count == 2, flags[teacherIndex] == .bool(true), flags[1 - teacherIndex] == .bool(false) else {
                throw ConfigError.invalidValue(path: config.path, key: "Arch.freeze_params_list",
                                               reason: "only a frozen Teacher and a trained Student are supported (e.g. [True, False] for models [Teacher, Student])")
            }
        }
        let studentName = try studentEntry.params.requiredString("name")
        let (student, classNum, inputSize) = try member(studentEntry.params, name: studentName, config: config)
        let teacherName = try teacherEntry.params.requiredString("name")
        guard loadTeacher else {
            config.ignore(teacherEntry.params.path)
            return Built(model: student, arch: studentName, classNum: classNum, inputSize: inputSize, teacher: nil, teacherArch: teacherName)
        }
        let (teacher, teacherClasses, _) = try member(teacherEntry.params, name: teacherName, config: config, requireWeights: true)
        guard teacherClasses == classNum else {
            throw ConfigError.invalidValue(path: config.path, key: teacherEntry.params.full("class_num"),
                                           reason: "the teacher has \(teacherClasses) classes, the student \(classNum)")
        }
        teacher.eval()
        return Built(model: student, arch: studentName, classNum: classNum, inputSize: inputSize, teacher: teacher, teacherArch: teacherName)
    }

    /// One zoo classifier from a section with `name`, `class_num`, zoo options and `pretrained`.
    static func member(_ s: ConfigSection, name: String, config: Config, requireWeights: Bool = false) throws -> (Layer, Int, Int) {
        let built = try ModelBuilder.zooClassifier(s, name: name)
        let model = built.model, classNum = built.classNum ?? 0
        guard classNum > 0 else {
            throw ConfigError.invalidValue(path: config.path, key: s.full("class_num"), reason: "a classifier needs class_num ≥ 1")
        }
        switch s.raw("pretrained") {
        case let .string(path)?:
            // Fine-tuning from ImageNet weights: as PaddleClas, a classifier of another size
            // (fc.*) is left at its initialisation; a teacher's checkpoint must fit exactly.
            try PretrainedWeights.load(path, into: model, fit: requireWeights ? .exact : .exceptHead(prefix: "fc."), key: s.full("pretrained"))
        case .bool(true)?:
            throw ConfigError.invalidValue(path: config.path, key: s.full("pretrained"),
                                           reason: "True downloads ImageNet weights in PaddleClas; give a checkpoint path instead (magpie convert imports .pdparams/.pth)")
        default:
            if requireWeights {
                throw ConfigError.missing(path: config.path, key: s.full("pretrained") + " (the teacher's trained checkpoint)")
            }
        }
        return (model, classNum, built.inputSize)
    }
}
