/// Unsupervised nucleus segmentation as pure functions: smoothing, automatic thresholds, distance-transform watershed, object measurements and cell-centred crops.
public enum SegmentationModule {}
