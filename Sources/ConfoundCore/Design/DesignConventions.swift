import Foundation

/// The column names labs use for each part of a design, tried in order when the user names none.
///
/// Conservative on purpose: only names that mean one thing. `target` is not a target convention (in compound
/// screens `Metadata_target` is the drug's molecular target), and `moa` or `compound` never become the target
/// unasked. Each name is matched with and without `Metadata_` and ignoring case (`StudyDesign.column(named:in:)`).
/// The simulator's own names (`disease`, `cell_line`, `control`, `Batch`) resolve here with no flags.
public enum DesignConventions {
  public static let targets = ["disease", "genotype", "condition", "diagnosis", "disease_status"]
  public static let units = [
    "cell_line", "donor", "patient", "subject", "individual", "broad_sample", "compound", "pert_iname",
  ]
  public static let pairs = ["pair", "pair_id"]
  public static let batches = ["batch", "Batch_Number", "batch_id"]
  public static let plates = ["Plate", "Assay_Plate_Barcode", "Image_Metadata_Plate"]
  public static let wells = ["Well", "well_position", "Image_Metadata_Well"]
  /// A flag column, whose true values (`ControlExpression.isTrue`) are the controls.
  public static let controlFlags = ["control", "is_control"]
  /// Columns naming the kind of perturbation, and the values that mean a negative control.
  public static let controlTypes = ["control_type", "pert_type"]
  public static let controlTypeValues = ["negcon", "control", "ctl_vehicle"]
  /// Treatment columns whose vehicle value is the control.
  public static let treatments = ["compound", "pert_iname", "broad_sample", "treatment"]
  public static let vehicles = ["DMSO"]

  /// The control expression the conventions give for these columns, with the reason; nil when none fits.
  public static func control(_ columns: [String: [String]]) -> (ControlExpression, String)? {
    let available = Array(columns.keys)
    let booleans: Set<String> = ["", "0", "1", "true", "false", "yes", "no"]
    for name in controlFlags {
      guard let column = StudyDesign.column(named: name, in: available) else { continue }
      let values = columns[column]!
      if values.allSatisfy({ booleans.contains($0.trimmingCharacters(in: .whitespaces).lowercased()) }),
        values.contains(where: ControlExpression.isTrue)
      {
        return (ControlExpression(column: column, test: .isTrue), "the convention \"\(name)\" (1/true/yes)")
      }
    }
    for name in controlTypes {
      guard let column = StudyDesign.column(named: name, in: available) else { continue }
      let found = Set(columns[column]!.filter { controlTypeValues.contains($0.lowercased()) }).sorted()
      guard !found.isEmpty else { continue }
      let test: ControlExpression.Test = found.count == 1 ? .equals(found[0]) : .oneOf(found)
      return (
        ControlExpression(column: column, test: test),
        "the convention \"\(name)\" (\(controlTypeValues.joined(separator: ", ")))"
      )
    }
    for name in treatments {
      guard let column = StudyDesign.column(named: name, in: available) else { continue }
      guard
        let vehicle = columns[column]!.first(where: { v in vehicles.contains { $0.lowercased() == v.lowercased() } })
      else { continue }
      return (ControlExpression(column: column, test: .equals(vehicle)), "the convention \"\(name)=\(vehicles[0])\"")
    }
    return nil
  }
}
