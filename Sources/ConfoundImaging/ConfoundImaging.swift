/// Reading and writing microscopy images (TIFF through libtiff, PNG through libpng, NumPy .npy) as float32 planes that keep their original bit depth and range.
public enum ConfoundImagingModule {}
