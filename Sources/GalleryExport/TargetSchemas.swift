import Retrieval

/// The index/collection definitions an NDJSON flavor's target needs before the rows are fed,
/// written beside them so the vector field's dimension and metric match the gallery's.
enum TargetSchemas {
    /// (file name, contents) for `flavor`, or nil when the flavor needs none.
    static func file(for flavor: NDJSONFlavor, dimension d: Int, metric: DistanceMetric, target: ExportTarget) -> (String, String)? {
        let ip = metric == .innerProduct
        switch flavor {
        case .plain:
            return nil
        case .opensearch:
            // Body of `PUT /INDEX`: a knn index whose `vector` field is an HNSW knn_vector.
            return ("opensearch_index.json", """
            {"settings": {"index": {"knn": true}},
             "mappings": {"properties": {
               "id": {"type": "long"},
               "vector": {"type": "knn_vector", "dimension": \(d),
                          "method": {"name": "hnsw", "engine": "faiss", "space_type": "\(ip ? "innerproduct" : "l2")"}},
               "label": {"type": "long"},
               "path": {"type": "keyword"},
               "metadata": {"type": "object", "enabled": false}}}}

            """)
        case .vespa:
            let t = target.documentType
            return ("\(t).sd", """
            schema \(t) {
                document \(t) {
                    field id type long { indexing: attribute | summary }
                    field vector type tensor<float>(x[\(d)]) {
                        indexing: attribute | index
                        attribute { distance-metric: \(ip ? "dotproduct" : "euclidean") }
                    }
                    field label type long { indexing: attribute | summary }
                    field path type string { indexing: attribute | summary }
                    field metadata type string { indexing: summary }
                }
                rank-profile similarity {
                    inputs { query(q) tensor<float>(x[\(d)]) }
                    first-phase { expression: closeness(field, vector) }
                }
            }

            """)
        case .qdrant:
            // Body of `PUT /collections/NAME`.
            return ("qdrant_collection.json", "{\"vectors\": {\"size\": \(d), \"distance\": \"\(ip ? "Dot" : "Euclid")\"}}\n")
        }
    }
}
