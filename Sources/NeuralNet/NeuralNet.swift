/// A CPU inference engine for the convolutional networks of ONNX files (the operator subset CNN embedders need), with OpenBLAS doing the matrix work.
public enum NeuralNetModule {}
