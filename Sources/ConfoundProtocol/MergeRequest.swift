import JSONRPC

/// `store/merge`: the run stores of shards of one audit, merged exactly into `out/run.sqlite` (see
/// `RunStore.merge`). The whole-screen analyses then run once on it (`audit/run` with `resume`).
public enum MergeRequest: RequestType {
  public static let method = "store/merge"

  public struct Params: Codable, Sendable {
    /// The folder that receives `run.sqlite` (and `run.sqlite.arrays/`); it must not hold a store yet.
    public var out: String
    /// The shards' run folders (or their `run.sqlite` files), in the order their sites are numbered.
    public var stores: [String]
    public init(out: String, stores: [String]) {
      self.out = out
      self.stores = stores
    }
  }

  public struct Response: Codable, Sendable {
    /// The merged store.
    public var store: String
    public var sources: Int
    public var sites: Int
    public var units: Int
    public var measurements: Int
    public var objects: Int
    public var arrays: Int
    public var seconds: Double
    public init(store: String, sources: Int, sites: Int, units: Int, measurements: Int, objects: Int, arrays: Int,
                seconds: Double) {
      self.store = store
      self.sources = sources
      self.sites = sites
      self.units = units
      self.measurements = measurements
      self.objects = objects
      self.arrays = arrays
      self.seconds = seconds
    }
  }
}
