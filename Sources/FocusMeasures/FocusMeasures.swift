/// Focus and image-quality measures of one greyscale plane, as pure functions (CellProfiler's MeasureImageQuality definitions where they overlap, plus Brenner, Tenengrad and the variance of the Laplacian).
public enum FocusMeasuresModule {}
