import ArgumentParser
import Engine
import Foundation
import TensorCore

/// `magpie train -c CONFIG [-o Key=Value …]`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a PaddleClas-style config.",
        discussion: """
        Global.eval_mode: retrieval trains an embedding model (RecModel) with the contrastive loss \
        and, with Loss.Train ContrastiveLoss_XBM, the cross-batch memory; it evaluates recall@k and \
        mAP on DataLoader.Eval (query = gallery, self excluded) every Global.eval_interval epochs.
        Checkpoints go to Global.output_dir/<Arch.name>/{latest,best_model}.safetensors (+ .optim \
        and .state.json); progress lines go to stdout and every logged value to train_log.jsonl \
        there. Resume with -o Global.checkpoints=<output_dir>/<arch>/latest. Ctrl-C finishes the \
        step, saves latest and exits. Unknown keys and wrongly typed values are errors naming the key.
        Global.eval_mode: classification trains a zoo classifier (Arch.name) with CELoss (label \
        smoothing epsilon), mixup/cutmix (DataLoader.Train.dataset.batch_transform_ops) and TopkAcc / \
        TprAtFpr evaluation; Arch.name: DistillationModel distils a frozen Teacher into a Student \
        with DistillationDMLLoss (SKL-UGI). See README, "Classification".
        Data parallel: `mpirun -np N magpie train -c CONFIG` runs N ranks (OpenMPI); each takes 1/N \
        of every batch, gradients are summed over ranks, rank 0 writes logs and checkpoints and \
        evaluates. Threads per rank default to cores / ranks on the machine (MAGPIE_NUM_THREADS \
        overrides). Global.sync_batch_norm: true normalises by the whole batch. See README, \
        "Training on several processes".
        """
    )

    @OptionGroup var config: ConfigOptions

    func run() throws {
        let c = try config.require()
        let parallel = DataParallel.world()
        Interruption.shared.install()
        let leader = parallel.isLeader
        if leader { print("convolutions: \(ConvolutionOptions.defaults) (oneDNN \(KernelReport.oneDNNVersion))") }
        defer { if leader { print("convolution kernels: \(KernelReport.summary)") } }
        do {
            let outcome = try TrainingRun.run(c, parallel: parallel)
            if leader { print(outcome.summary) }
            if outcome.interrupted { throw ExitCode(130) }
        } catch where parallel.isDistributed && !(error is ExitCode) {
            // The other ranks are waiting in a collective for this one: stop the whole job.
            FileHandle.standardError.write(Data("Error (rank \(parallel.rank) of \(parallel.size)): \(error)\n".utf8))
            parallel.communicator.abort(code: 1)
        }
    }
}
