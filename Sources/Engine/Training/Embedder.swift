import Datasets
import Foundation
import NN
import Retrieval
import TensorCore

/// Runs a model in eval mode over a dataset and collects its embeddings (normalised when the
/// model is, see `ModelBuilder.buildEmbedding`).
public enum Embedder {
    public struct Result {
        public var embeddings: [Float]
        public var labels: [Int64]
        public var paths: [String]
        public var dimension: Int
        public var count: Int { labels.count }
    }

    /// `forward` runs the model (default: op by op, as training's evaluation needs: the weights
    /// change between evaluations); `magpie eval` passes a loaded model's compiled pass.
    public static func embed(model: Layer, split: DataBuilder.Split, epoch: Int = 0,
                             progress: ((Int, Int) -> Void)? = nil,
                             forward: ((Tensor) -> Tensor)? = nil) throws -> Result {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var embeddings: [Float] = [], labels: [Int64] = [], paths: [String] = []
        var dimension = 0
        let batches = split.sampler.batches(epoch: epoch)
        let iterator = split.loader.makeIterator(batches: batches, epoch: epoch)
        var done = 0
        while let batch = try iterator.next() {
            let f = forward?(batch.images) ?? withNoGrad { model(batch.images) }
            dimension = f.shape[1]
            embeddings += f.data
            labels += batch.labels.map(Int64.init)
            paths += batch.indices.map { split.dataset.records[$0].path }
            done += batch.labels.count
            progress?(done, split.dataset.count)
        }
        return Result(embeddings: embeddings, labels: labels, paths: paths, dimension: dimension)
    }

    /// Query = gallery evaluation with the query's own entry excluded.
    public static func evaluate(_ r: Result, ks: [Int], protocol proto: EvaluationProtocol = .standard,
                                rerank: KReciprocalReRanker? = nil) throws -> EvaluationReport {
        let evaluator = RetrievalEvaluator(ks: ks, protocol: proto)
        guard let rerank else {
            return try evaluator.evaluateSelf(embeddings: r.embeddings, labels: r.labels, dimension: r.dimension)
        }
        let state = try rerank.prepare(items: r.embeddings, dimension: r.dimension, queryCount: r.count, galleryOffset: 0)
        return try evaluator.evaluateSelf(embeddings: r.embeddings, labels: r.labels, dimension: r.dimension,
                                          rescorer: { q, row in state.rescore(query: q, similarities: row) })
    }
}
