import Foundation
import Retrieval
import TestSupport
import Testing

/// The one searchable gallery: search joined to records, and the query page built from its hits.
@Suite struct SearchableGalleryTests {
    @Test func searchReturnsHitsJoinedToRecords() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let store = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 2))
        try store.add(ids: [10, 20, 30], vectors: [1, 0, 0, 1, 0.6, 0.8],
                      records: [GalleryRecord(label: 1, path: "/a.jpg"), GalleryRecord(label: 2, path: "/b.jpg"), GalleryRecord()])
        store.close()
        let gallery = try SearchableGallery(path: dir.path, readOnly: true)
        let found = try gallery.search([1, 0, 0, 1], k: 2)
        #expect(found.galleryItems == 3)
        #expect(found.hits.map { $0.map(\.id) } == [[10, 30], [20, 30]])
        #expect(found.hits[0][0] == GalleryHit(rank: 1, id: 10, score: 1, record: GalleryRecord(label: 1, path: "/a.jpg")))
        #expect(found.hits[1][1].rank == 2 && found.hits[1][1].record == GalleryRecord())

        var page = QueryReport(title: "t")
        page.add(query: "/q.jpg", label: 1, hits: found.hits[0])
        #expect(page.html.contains("file:///a.jpg") && page.html.contains("class=\"hit\"") && page.html.contains("class=\"miss\""))
    }
}
