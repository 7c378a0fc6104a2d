import Foundation

/// A value built by a Python pickle stream: the subset `torch.save` writes (protocol 2, and the
/// frames and short opcodes of protocols 3–5). Lists and dicts are shared references, as in
/// Python, because later opcodes fill objects that the memo already holds.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A class or function named by GLOBAL / STACK_GLOBAL.
    case global(module: String, name: String)
    /// What a host hook built for a REDUCE, NEWOBJ or persistent id (a torch storage or tensor).
    case host(AnyObject)
    /// The result of calling a callable nothing here understands; kept only to be ignored.
    case opaque(String)

    var string: String? { if case let .string(s) = self { return s }; return nil }
    var int: Int? {
        switch self {
        case let .int(i): return i
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }
    var elements: [PickleValue]? {
        switch self {
        case let .tuple(items): return items
        case let .list(list): return list.items
        default: return nil
        }
    }
    /// A short name for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(module, name): return "\(module).\(name)"
        case let .host(object): return "\(type(of: object))"
        case let .opaque(name): return name
        }
    }
}

final class PickleList { var items: [PickleValue] = [] }

/// A dict with string or integer keys in insertion order (other keys are dropped: nothing read here uses them).
final class PickleDict {
    private(set) var keys: [String] = []
    private(set) var values: [String: PickleValue] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        let name: String
        switch key {
        case let .string(s): name = s
        case let .int(i): name = String(i)
        default: return
        }
        if values.updateValue(value, forKey: name) == nil { keys.append(name) }
    }

    subscript(key: String) -> PickleValue? { values[key] }
}

/// Runs the pickle virtual machine over bytes. It never imports or calls anything: `reduce`
/// decides what a `callable(*args)` becomes and `persistentLoad` resolves persistent ids
/// (torch's storages); everything else a callable returns is `.opaque`.
struct PickleReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var position: Int
    var persistentLoad: (PickleValue) throws -> PickleValue = { _ in .none }
    var reduce: (_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue? = { _, _ in nil }

    init(_ bytes: UnsafeRawBufferPointer, path: String, at position: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.position = position
    }

    private func invalid(_ reason: String) -> TensorCoreError {
        .invalidFile(path: path, reason: "\(reason) (pickle byte \(position))")
    }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - position else { throw invalid("the pickle stream ends early (truncated file?)") }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }
    private mutating func byte() throws -> Int { Int(try take(1)[0]) }
    private mutating func uint(_ n: Int) throws -> Int {
        let b = try take(n)
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
        guard v <= UInt64(Int.max) else { throw invalid("a length of \(v) bytes is impossible") }
        return Int(v)
    }
    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw invalid("the pickle stream ends early (truncated file?)") }
        let text = String(decoding: try take(end - position), as: UTF8.self)
        position += 1
        return text
    }
    private mutating func utf8(_ n: Int) throws -> String { String(decoding: try take(n), as: UTF8.self) }

    /// Reads one pickle (up to its STOP) and returns the value it builds.
    mutating func load() throws -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]

        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw invalid("stack underflow") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw invalid("no MARK to pop to") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func call(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
            if let built = try reduce(callable, args) { return built }
            if case .global("collections", "OrderedDict") = callable { return .dict(PickleDict()) }
            if case .global("builtins", "set") = callable { return .list(PickleList()) }
            return .opaque(callable.kind)
        }

        while true {
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                        // PROTO
            case 0x95: _ = try take(8)                                       // FRAME
            case 0x2E: return try pop()                                      // STOP
            case 0x28: marks.append(stack.count)                             // MARK
            case 0x4E: stack.append(.none)                                   // NONE
            case 0x88: stack.append(.bool(true))                             // NEWTRUE
            case 0x89: stack.append(.bool(false))                            // NEWFALSE
            case 0x4B: stack.append(.int(try byte()))                        // BININT1
            case 0x4D: stack.append(.int(try uint(2)))                       // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x8A, 0x8B:                                                  // LONG1, LONG4
                let n = op == 0x8A ? try byte() : try uint(4)
                let b = try take(n)
                guard n <= 8 else { stack.append(.opaque("long of \(n) bytes")); continue }
                var v: UInt64 = 0
                for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
                if n > 0, n < 8, b[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x49:                                                        // INT (text)
                let text = try line()
                if text == "00" || text == "01" { stack.append(.bool(text == "01")) }
                else if let v = Int(text) { stack.append(.int(v)) } else { throw invalid("bad INT '\(text)'") }
            case 0x47:                                                        // BINFLOAT (big-endian)
                let b = try take(8)
                var v: UInt64 = 0
                for i in 0..<8 { v = v << 8 | UInt64(b[i]) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x58: stack.append(.string(try utf8(try uint(4))))          // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(try byte())))           // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try utf8(try uint(8))))          // BINUNICODE8
            case 0x54: stack.append(.string(try utf8(try uint(4))))          // BINSTRING
            case 0x55: stack.append(.string(try utf8(try byte())))           // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(Array(try take(try uint(4)))))    // BINBYTES
            case 0x43: stack.append(.bytes(Array(try take(try byte()))))     // SHORT_BINBYTES
            case 0x8E: stack.append(.bytes(Array(try take(try uint(8)))))    // BINBYTES8
            case 0x29: stack.append(.tuple([]))                              // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(try popMark()))                   // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))                     // TUPLE1
            case 0x86:                                                        // TUPLE2
                let b = try pop(), a = try pop()
                stack.append(.tuple([a, b]))
            case 0x87:                                                        // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                stack.append(.tuple([a, b, c]))
            case 0x5D: stack.append(.list(PickleList()))                     // EMPTY_LIST
            case 0x6C:                                                        // LIST
                let list = PickleList()
                list.items = try popMark()
                stack.append(.list(list))
            case 0x61, 0x65:                                                  // APPEND, APPENDS
                let items = op == 0x61 ? [try pop()] : try popMark()
                guard case let .list(list)? = stack.last else { throw invalid("APPEND to a \(stack.last?.kind ?? "nothing")") }
                list.items += items
            case 0x7D: stack.append(.dict(PickleDict()))                     // EMPTY_DICT
            case 0x64, 0x73, 0x75:                                            // DICT, SETITEM, SETITEMS
                let items = op == 0x73 ? Array(try [pop(), pop()].reversed()) : try popMark()
                guard items.count % 2 == 0 else { throw invalid("odd number of dict items") }
                let dict: PickleDict
                if op == 0x64 {
                    dict = PickleDict()
                    stack.append(.dict(dict))
                } else {
                    guard case let .dict(d)? = stack.last else { throw invalid("SETITEM on a \(stack.last?.kind ?? "nothing")") }
                    dict = d
                }
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
            case 0x94: memo[memo.count] = stack.last                         // MEMOIZE
            case 0x71: memo[try byte()] = stack.last                         // BINPUT
            case 0x72: memo[try uint(4)] = stack.last                        // LONG_BINPUT
            case 0x70:                                                        // PUT (text)
                guard let i = Int(try line()) else { throw invalid("bad PUT index") }
                memo[i] = stack.last
            case 0x68, 0x6A, 0x67:                                            // BINGET, LONG_BINGET, GET
                let i: Int
                if op == 0x67 { guard let v = Int(try line()) else { throw invalid("bad GET index") }; i = v }
                else { i = op == 0x68 ? try byte() : try uint(4) }
                guard let v = memo[i] else { throw invalid("memo \(i) read before it was written") }
                stack.append(v)
            case 0x63:                                                        // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                stack.append(.global(module: module, name: name))
            case 0x93:                                                        // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard let m = module.string, let n = name.string else { throw invalid("STACK_GLOBAL without names") }
                stack.append(.global(module: m, name: n))
            case 0x52:                                                        // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try call(callable, args.elements ?? []))
            case 0x81:                                                        // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try call(cls, args.elements ?? []))
            case 0x92:                                                        // NEWOBJ_EX
                _ = try pop()
                let args = try pop(), cls = try pop()
                stack.append(try call(cls, args.elements ?? []))
            case 0x62: _ = try pop()                                          // BUILD: object state is not needed
            case 0x51: stack.append(try persistentLoad(try pop()))           // BINPERSID
            case 0x30: _ = try pop()                                          // POP
            case 0x31: _ = try popMark()                                      // POP_MARK
            case 0x32:                                                        // DUP
                guard let top = stack.last else { throw invalid("DUP on an empty stack") }
                stack.append(top)
            case 0x8F: stack.append(.list(PickleList()))                     // EMPTY_SET
            case 0x90:                                                        // ADDITEMS
                let items = try popMark()
                guard case let .list(set)? = stack.last else { throw invalid("ADDITEMS on a \(stack.last?.kind ?? "nothing")") }
                set.items += items
            case 0x91: stack.append(.tuple(try popMark()))                   // FROZENSET
            default:
                position -= 1
                throw invalid(String(format: "unsupported pickle opcode 0x%02x", op))
            }
        }
    }
}
