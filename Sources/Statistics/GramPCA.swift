extension PrincipalComponents {
  /// Each row's scores on the first `count` principal components of `rows` (n rows of d values, n << d), without a
  /// d x d covariance: the eigenvectors of the n x n Gram matrix of the centred rows give the scores
  /// (u_c * sqrt(lambda_c)). PCA of the 2d x n matrix [X^T; -X^T], whose columns have mean 0, has covariance
  /// 2 X X^T / (2d - 1), so its components are the u_c and its variances lambda_c * 2 / (2d - 1). The signs of
  /// the scores are those of the components (arbitrary, as in any PCA).
  public static func scores(ofRows rows: [[Float]], count: Int) throws -> [[Float]] {
    guard let d = rows.first?.count, rows.count >= 2, rows.allSatisfy({ $0.count == d }) else {
      throw StatisticsError.invalidArgument("PrincipalComponents.scores: need 2+ rows of one length")
    }
    let n = rows.count
    var mean = [Double](repeating: 0, count: d)
    for row in rows { for j in 0..<d { mean[j] += Double(row[j]) / Double(n) } }
    var stacked = FeatureMatrix(zeros: 2 * d, n)
    for (i, row) in rows.enumerated() {
      for j in 0..<d {
        let centred = Double(row[j]) - mean[j]
        stacked[j, i] = centred
        stacked[d + j, i] = -centred
      }
    }
    let k = min(count, n - 1)
    let pca = try PrincipalComponents(fitting: stacked, components: k)
    return (0..<n).map { i in
      (0..<k).map { c in Float(pca.components[c, i] * (pca.explainedVariance[c] * Double(2 * d - 1) / 2).squareRoot()) }
    }
  }
}
