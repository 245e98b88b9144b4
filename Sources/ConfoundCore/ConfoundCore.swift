/// Screens (batches, plates, wells, sites, channels with covariates), plate layouts, readers of the ecosystem's screen formats, the SQLite run store and the simulated screen with planted confounders.
public enum ConfoundCoreModule {}
