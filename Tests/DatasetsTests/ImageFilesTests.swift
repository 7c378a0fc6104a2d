import Foundation
import Testing
@testable import Datasets

@Suite struct ImageFilesTests {
    @Test func aFolderListsItsJPEGAndPNGFilesRecursivelySortedAndAbsolute() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("shoes/red"), withIntermediateDirectories: true)
        for name in ["b.png", "a.JPG", "notes.txt", "scan.bmp", "shoes/c.jpeg", "shoes/red/d.jpg"] {
            #expect(fm.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([0])))
        }
        // Named relative to the working directory, as a user types it (up to / and down again:
        // changing the directory would disturb the tests running beside this one).
        let depth = URL(fileURLWithPath: fm.currentDirectoryPath).standardizedFileURL.pathComponents.count - 1
        let relative = String(repeating: "../", count: depth) + dir.standardizedFileURL.path.dropFirst()
        let listed = try ImageFiles.list(relative)
        let root = dir.standardizedFileURL.path
        #expect(listed == ["a.JPG", "b.png", "shoes/c.jpeg", "shoes/red/d.jpg"].map { root + "/" + $0 })

        // One file comes back as itself, made absolute; its extension is not checked here.
        #expect(try ImageFiles.list(relative + "/./shoes/../notes.txt") == [root + "/notes.txt"])
    }

    @Test func aMissingPathOrAFolderWithoutImagesIsAnError() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(FileManager.default.createFile(atPath: dir.appendingPathComponent("readme.txt").path, contents: Data([0])))
        #expect(throws: DatasetsError.badData(path: dir.path, reason: "no .jpg, .jpeg or .png images in the folder")) {
            try ImageFiles.list(dir.path)
        }
        let missing = dir.appendingPathComponent("absent").path
        #expect(throws: DatasetsError.badData(path: missing, reason: "no such file or folder")) { try ImageFiles.list(missing) }
    }

    @Test func foldersAndImageFilesNameImagesOtherFilesAreLists() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(ImageFiles.namesImages(dir.path))
        #expect(ImageFiles.namesImages(dir.appendingPathComponent("shot.JPEG").path))
        #expect(ImageFiles.namesImages(dir.appendingPathComponent("shot.png").path))
        #expect(!ImageFiles.namesImages(dir.appendingPathComponent("Ebay_test.txt").path))
        #expect(!ImageFiles.namesImages(dir.appendingPathComponent("list").path))
        // A folder counts whatever its name says.
        let oddFolder = dir.appendingPathComponent("set.jpg")
        try FileManager.default.createDirectory(at: oddFolder, withIntermediateDirectories: true)
        #expect(ImageFiles.namesImages(oddFolder.path))
    }
}
