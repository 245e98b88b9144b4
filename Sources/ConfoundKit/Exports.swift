// What a plugin author needs comes with `import ConfoundKit`: the C ABI types for the entry point, the manifest
// types, and JSON values.
@_exported import CConfoundPlugin
@_exported import ConfoundProtocol
@_exported import JSONRPC
