import ArgumentParser
import Engine
import Foundation
import Retrieval

/// `magpie eval`: recall@k, mAP, MAP@R, R-precision and precision@1 of embeddings.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Retrieval metrics (recall@k, mAP, MAP@R, R-precision, precision@1) of embeddings.",
        discussion: """
        Inputs: --embeddings E.npy --labels L.npy (query = gallery); --gallery PATH alone (a gallery \
        folder, .npz or NDJSON; query = gallery); or --query Q --gallery G (separate sets).

        Ranking: by similarity (inner product; with --metric L2, by squared Euclidean distance), \
        higher first; equal scores are ordered by smaller gallery position (id order for a gallery \
        folder). Relevant = same label. When query = gallery the query's own entry is never relevant:
          --protocol standard   removes it from the ranking (the usual SOP protocol);
          --protocol paddleclas keeps it in the ranking at similarity 0 (PaddleClas retrieval_eval), \
        takes queries in blocks of 64 and averages recall@k and mAP per block over the block's \
        queries that have a relevant item, weighting blocks by rows / #queries. Reproduces PaddleClas.

        For a query with R relevant items at 1-based ranks r1 < r2 < ... :
          recall@k     = 1 if r1 <= k ("any relevant in the top k"), else 0
          mAP          = mean over queries of (1/R) Σ_i i / r_i over the whole ranking (PaddleClas mAP)
          MAP@R        = (1/R) Σ_{i: r_i <= R} i / r_i  (pytorch-metric-learning mean_average_precision_at_r)
          R-precision  = #{i: r_i <= R} / R;  precision@1 = 1 if r1 = 1
        Queries with no relevant item are left out of every mean (their count is reported).

        --rerank applies k-reciprocal re-ranking (Zhong et al. 2017; --k1 20 --k2 6 --lambda 0.3) \
        before ranking; it uses squared Euclidean distances and sparse neighbour lists (memory \
        O(N·k)), treating query = gallery as one set. With re-ranking, the own entry is removed in \
        both protocols (PaddleClas pushes it to the end of the ranking, which is equivalent).
        Memory: one 256 × gallery block of scores per core, never N × N.

        With -c CONFIG [-o Key=Value] [--weights CKPT]: embeds DataLoader.Eval (the Gallery split; \
        query = gallery) with the config's model, preprocessing and Global.feature_normalize, as \
        PaddleClas's tools/eval.py does, and reports the same metrics (Metric.Eval Recallk topk as ks).
        A config with Global.eval_mode: classification runs the classifier over DataLoader.Eval \
        and reports Metric.Eval: TopkAcc (top-k accuracy) and TprAtFpr (best TPR at FPR <= max_fpr \
        over thresholds i/10000, with the threshold found).
        """
    )

    @Option(help: "Embeddings .npy (rows × dim, float); query = gallery.") var embeddings: String?
    @Option(help: "Labels .npy (int) for --embeddings or a .npy --gallery.") var labels: String?
    @Option(help: "Query set: gallery folder, .npz, .ndjson or .npy (+ --query-labels).") var query: String?
    @Option(help: "Labels .npy for a .npy --query.") var queryLabels: String?
    @Option(help: "Gallery: folder, .npz, .ndjson or .npy (+ --labels).") var gallery: String?
    @Option(help: "Comma-separated k values for recall@k.") var ks = "1,5,10,100"
    @Option(help: "standard or paddleclas (see above).") var `protocol` = "standard"
    @Option(help: "IP or L2 (default: the gallery's metric, else IP).") var metric: String?
    @Flag(help: "Apply k-reciprocal re-ranking.") var rerank = false
    @Option(help: "Re-ranking k1.") var k1 = 20
    @Option(help: "Re-ranking k2.") var k2 = 6
    @Option(help: "Re-ranking λ (weight of the original distance).") var lambda: Float = 0.3
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup(title: "Index (with --embeddings or --gallery): also build this index over the gallery and report its recall@k against exact search")
    var index: IndexOptions
    @OptionGroup var config: ConfigOptions
    @Option(help: "With -c: checkpoint to evaluate (default Global.pretrained_model; none = the untrained model).")
    var weights: String?

    func run() throws {
        let reranker = rerank ? KReciprocalReRanker(k1: k1, k2: k2, lambda: lambda) : nil
        let proto = try EvaluationProtocol(parsing: `protocol`)
        if let c = try config.load() {
            guard try index.spec() == nil else { throw ValidationError("--index works with --embeddings or --gallery (embed first with export-embeddings)") }
            return try printConfigEvaluation(c, reranker: reranker, protocol: proto)
        }
        let evaluator = RetrievalEvaluator(ks: try parsedKs(), protocol: proto)
        let start = Date()
        let report: EvaluationReport
        let sets: (gallery: EmbeddingSet, query: EmbeddingSet?)
        let metric = try self.metric.map(DistanceMetric.init(parsing:))
        if let embeddings {
            guard gallery == nil, query == nil else { throw ValidationError("use --embeddings alone, or --gallery [--query]") }
            sets = (try EmbeddingSet.load(embeddings, labels: labels), nil)
            report = try evaluator.evaluate(gallery: sets.gallery, galleryName: embeddings, metric: metric, reranker: reranker)
        } else if let gallery {
            sets = (try EmbeddingSet.load(gallery, labels: labels), try query.map { try EmbeddingSet.load($0, labels: queryLabels) })
            report = try evaluator.evaluate(gallery: sets.gallery, galleryName: gallery, query: sets.query, queryName: query ?? "query",
                                            metric: metric, reranker: reranker)
        } else {
            throw ValidationError("give --embeddings E.npy --labels L.npy, or --gallery PATH [--query Q]")
        }
        let seconds = Date().timeIntervalSince(start)
        let agreement = try index.spec().map {
            try IndexAgreement.measure(spec: $0, gallery: sets.gallery, query: sets.query, ks: try parsedKs(),
                                       metric: metric ?? sets.gallery.metric ?? .innerProduct)
        }
        if json {
            guard let agreement else { return print(report.json) }
            var object = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any] ?? [:]
            object["index"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(agreement))
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(report.table)
            if let agreement { print(agreement.table) }
            print(String(format: "time %.2f s, peak RSS %.0f MiB", seconds, RetrievalBench.peakRSSMiB))
        }
    }
}

extension EvalCommand {
    /// The --ks values.
    func parsedKs() throws -> [Int] {
        try ks.split(separator: ",").map { part -> Int in
            guard let k = Int(part.trimmingCharacters(in: .whitespaces)), k > 0 else {
                throw ValidationError("--ks needs positive integers, e.g. 1,5,10,100")
            }
            return k
        }
    }

    /// `magpie eval -c CONFIG`: Engine's `EvaluationRun` evaluates; this prints.
    func printConfigEvaluation(_ c: Engine.Config, reranker: KReciprocalReRanker?, protocol proto: EvaluationProtocol) throws {
        let start = Date()
        let line = ProgressLine()
        let outcome = try EvaluationRun.run(c, weights: weights, ks: ks == "1,5,10,100" ? nil : try parsedKs(), protocol: proto,
                                            reranker: reranker) { done, total in
            if !json { line.update("evaluating \(done)/\(total)") }
        }
        line.end()
        let seconds = Date().timeIntervalSince(start)
        switch outcome {
        case let .retrieval(report, images, dimension, arch):
            if json { return print(report.json) }
            print("\(images) images, \(dimension)-d, model \(arch) (\(weights ?? "config weights"))")
            print(report.table)
        case let .classification(report, arch, path):
            if json {
                var object = report.json
                object["model"] = arch
                object["weights"] = path ?? NSNull()
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                return print(String(decoding: data, as: UTF8.self))
            }
            print("\(report.count) images, model \(arch) (\(path ?? "untrained weights"))")
            print("[Eval][Avg]" + report.line)
        case let .fixMatch(accuracy, ks, arch, source):
            if json {
                let fields = zip(ks, accuracy.accuracies).map { String(format: "\"top%d\":%.6f", $0, $1) }
                return print("{\"images\":\(accuracy.count)," + fields.joined(separator: ",") + "}")
            }
            print("\(accuracy.count) images, model \(arch) (\(source))")
            for (k, a) in zip(ks, accuracy.accuracies) { print(String(format: "top%d: %.5f", k, a)) }
        }
        print(String(format: "time: %.1f s", seconds))
    }
}
