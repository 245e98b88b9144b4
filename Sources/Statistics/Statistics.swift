/// Statistics for probes: L2-regularised logistic regression fitted by L-BFGS on OpenBLAS, leak-free cross-validation splitters, ROC AUC and the metrics the audit reports.
public enum StatisticsModule {}
