"""scikit-learn reference for Confound's probe (run by Tests/ProbeTests, not collected by pytest).

    python test_probe_reference.py probe TABLE TARGET GROUPS CONTROL PERMUTATIONS
        The probe on a feature table with scikit-learn: GroupKFold(5) over GROUPS ("-": each row its own group,
        named by its row number as the host names it), StandardScaler + LogisticRegression(C=1) fitted per fold,
        the same model on column-permuted features, and a label-permutation p-value. TARGET "row"/"column" is
        derived from Metadata_Well. CONTROL is COLUMN=VALUE or "-". Prints JSON.
    python test_probe_reference.py nested TABLE TARGET GROUPS
        C chosen per GroupKFold(5) fold by GridSearchCV(StandardScaler + LogisticRegression, C in 10^-3..10^2,
        cv=GroupKFold(3)) fitted with the training rows' groups: per fold the test size, chosen C and mean inner
        accuracy per C. Prints JSON.
    python test_probe_reference.py embeddings DIR OUT.csv
        Writes the DeepProfiler per-cell embeddings (npz per plate/well/site) as one CSV table.
    python test_probe_reference.py explain TABLE RESPONSE.json
        scikit-learn's partial_dependence (kind "both") of every curve in an explain/table response, computed on
        the response's own all-rows model (StandardScaler mean_/scale_, LogisticRegression coef_/intercept_) over
        the same features of TABLE: the largest absolute differences from the response's grids and curves (those
        it has). JSON.
    python test_probe_reference.py inspect FOLDER
        scikit-learn's partial_dependence and permutation_importance on the models, folds, column sets and draws
        that Tests/StatisticsTests/ExplanationTests writes into FOLDER (explanation.json, X.bin, y.bin). JSON.
    python test_probe_reference.py nuisance SOURCE SPEC.json
        An audit's nuisance probe redone with scikit-learn on the source table itself (a profiles CSV/CSV.gz, or a
        DeepProfiler folder of <plate>/<well>_s<site>.npz, each well the mean of its cells): the wells, feature
        columns, folds (held-out groups) and C of SPEC; columns standardised and reduced to their first
        principal components as the audit does when SPEC says so (float32 in between, as the audit stores them);
        per fold StandardScaler + LogisticRegression(C) fitted to convergence: per-fold accuracy, balanced accuracy
        and ROC AUC, the pooled balanced accuracy; the column-permuted baseline on the same permutation of each
        column (SplitMix64 seeded as the probe plugin, Fisher-Yates with Lemire's bounded draws); and a null of
        labels permuted between units within strata, with StratifiedGroupKFold folds rebuilt per permutation
        (GroupKFold when a class has fewer rows than folds, which StratifiedGroupKFold refuses).
    python test_probe_reference.py association TABLE TARGET COVARIATE
        Cramer's V (scipy.stats.contingency.association) and the chi-square p-value of two columns. Prints JSON.
"""
import csv
import gzip
import json
import sys

import numpy as np


def read_table(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        sample = f.readline()
        f.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        return list(csv.DictReader(f, delimiter=delimiter))


def column(rows, name):
    if name in ("row", "column") and name not in rows[0]:
        well = next(k for k in rows[0] if k.lower() in ("metadata_well", "well_position", "well"))
        return [r[well][:1] if name == "row" else r[well][1:] for r in rows]
    return [r[name] for r in rows]


def held_out_balanced_accuracy(x, y, folds):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classes = np.unique(y)
    p = np.zeros((len(y), len(classes)))
    for train, test in folds:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(x[train], y[train])
        columns = np.searchsorted(classes, model.classes_)
        p[np.ix_(test, columns)] = model.predict_proba(x[test])
    predicted = classes[p.argmax(axis=1)]
    return accuracy_score(y, predicted), balanced_accuracy_score(y, predicted)


def probe(table, target, groups, control, permutations):
    from sklearn.model_selection import GroupKFold

    rows = read_table(table)
    index = list(range(len(rows)))
    if control != "-":
        name, value = control.split("=", 1)
        index = [i for i, v in enumerate(column(rows, name)) if v == value]
    features = [k for k in rows[0] if not k.startswith("Metadata_")]
    x = np.array([[float(rows[i][k]) for k in features] for i in index])
    keep = np.isfinite(x).all(axis=0)
    x = x[:, keep]
    y = np.array([column(rows, target)[i] for i in index])
    g = np.array([str(i) for i in index] if groups == "-" else [column(rows, groups)[i] for i in index])
    folds = list(GroupKFold(n_splits=min(5, len(np.unique(g)))).split(x, y, g))
    accuracy, balanced = held_out_balanced_accuracy(x, y, folds)
    rng = np.random.default_rng(0)
    permuted = np.column_stack([rng.permutation(x[:, j]) for j in range(x.shape[1])])
    baseline = held_out_balanced_accuracy(permuted, y, folds)[1]
    null = [held_out_balanced_accuracy(x, rng.permutation(y), folds)[1] for _ in range(permutations)]
    p = (1 + sum(v >= balanced - 1e-12 for v in null)) / (permutations + 1)
    return {"accuracy": accuracy, "balanced_accuracy": balanced, "baseline": baseline, "p_value": p,
            "rows": len(index), "features": int(keep.sum()), "test_sizes": [len(t) for _, t in folds]}


def nested(table, target, groups):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = read_table(table)
    features = [k for k in rows[0] if not k.startswith("Metadata_")]
    x = np.array([[float(r[k]) for k in features] for r in rows])
    x = x[:, np.isfinite(x).all(axis=0)]
    y = np.array(column(rows, target))
    g = np.array(column(rows, groups))
    folds = []
    for train, test in GroupKFold(n_splits=min(5, len(np.unique(g)))).split(x, y, g):
        search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()),
                              {"logisticregression__C": [0.001, 0.01, 0.1, 1, 10, 100]}, cv=GroupKFold(3), refit=False)
        search.fit(x[train], y[train], groups=g[train])
        folds.append({"test_size": len(test), "c": search.best_params_["logisticregression__C"],
                      "scores": search.cv_results_["mean_test_score"].tolist()})
    return {"folds": folds}


def embeddings(folder, out):
    import glob
    import os

    with open(out, "w", newline="") as f:
        writer = None
        for path in sorted(glob.glob(os.path.join(folder, "*", "*.npz"))):
            plate = os.path.basename(os.path.dirname(path))
            well, site = os.path.basename(path)[:-4].split("_")
            values = np.load(path, allow_pickle=True)["features"]
            if writer is None:
                writer = csv.writer(f)
                writer.writerow(["Metadata_Plate", "Metadata_Well", "Metadata_Site", "Metadata_PlateWell"]
                                + [f"Embedding_{j}" for j in range(values.shape[1])])
            for v in values:
                writer.writerow([plate, well, site, f"{plate}/{well}"] + [repr(float(a)) for a in v])


def fitted_pipeline(means, scales, coefficients, intercepts, classes, c, rows):
    """StandardScaler + LogisticRegression holding the given parameters (ours), as if fitted on `rows` rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_, scaler.scale_ = np.array(means), np.array(scales)
    scaler.var_, scaler.n_features_in_, scaler.n_samples_seen_ = scaler.scale_ ** 2, len(means), rows
    model = LogisticRegression(C=c)
    model.coef_, model.intercept_ = np.array(coefficients), np.array(intercepts)
    model.classes_, model.n_features_in_ = np.array(classes), len(means)
    return make_pipeline(scaler, model)


def inspect(folder):
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.inspection import partial_dependence, permutation_importance

    with open(folder + "/explanation.json") as f:
        e = json.load(f)
    x = np.fromfile(folder + "/X.bin").reshape(e["rows"], e["columns"])
    y = np.fromfile(folder + "/y.bin", dtype=np.int64)

    def pipeline(m):
        return fitted_pipeline(m["means"], m["scales"], m["coef"], m["intercept"], m["classes"], e["c"], len(x))

    class HeldOut(ClassifierMixin, BaseEstimator):
        # Each row predicted by the model of the fold that tests it. Column s of the input holds row indices: the
        # rows whose values set s takes, so permuting that one column permutes the set's columns together.
        def fit(self, z, t):
            return self

        def predict_proba(self, z):
            xf = x.copy()
            for s, cols in enumerate(self.sets):
                rows = z[:, s].astype(int)
                if (rows != identity).any():  # the one column permutation_importance is permuting
                    xf[:, cols] = x[np.ix_(rows, cols)]
            p = np.zeros((len(x), len(self.classes_)))
            for pipe, test in zip(self.pipes, self.tests):
                p[np.ix_(test, np.searchsorted(self.classes_, pipe.classes_))] = pipe.predict_proba(xf[test])
            return p

        def predict(self, z):
            return self.classes_[self.predict_proba(z).argmax(axis=1)]

    identity = np.arange(len(x))
    full = pipeline(e["model"])
    curves = []
    for j in e["pd_features"]:
        r = partial_dependence(full, x, [j], kind="both", grid_resolution=100, percentiles=(0.05, 0.95))
        curves.append({"grid": r["grid_values"][0].tolist(), "average": r["average"].tolist(),
                       "individual": r["individual"].tolist()})
    held = HeldOut()
    held.sets, held.classes_ = e["sets"], np.unique(y)
    held.pipes, held.tests = [pipeline(m) for m in e["fold_models"]], e["tests"]
    auc = "roc_auc" if len(held.classes_) == 2 else "roc_auc_ovr"
    z = np.tile(np.arange(len(x), dtype=float)[:, None], (1, len(e["sets"])))
    imp = permutation_importance(held, z, y, scoring=[auc, "balanced_accuracy"], n_repeats=e["repeats"],
                                 random_state=0)
    return {"curves": curves, "auc": imp[auc]["importances"].tolist(),
            "balanced": imp["balanced_accuracy"]["importances"].tolist(),
            "auc_mean": imp[auc]["importances_mean"].tolist(), "auc_std": imp[auc]["importances_std"].tolist()}


def explain(table, response_path):
    from sklearn.inspection import partial_dependence

    with open(response_path) as f:
        response = json.load(f)
    result, rows = response["result"], read_table(table)
    names = [k for k in rows[0] if not k.startswith("Metadata_")]
    x = np.array([[float(r[k]) for k in names] for r in rows])
    keep = np.isfinite(x).all(axis=0)
    x, names = x[:, keep], [n for n, k in zip(names, keep) if k]
    m = result["model"]
    pipe = fitted_pipeline(m["means"], m["scales"], m["coefficients"], m["intercepts"], m["classes"], m["c"], len(x))
    classes = list(m["classes"])
    worst = {"grid": 0.0, "average": 0.0, "individual": 0.0, "curves": 0}
    for curve in result["partial_dependence"]:
        ref = partial_dependence(pipe, x, [names.index(curve["feature"])], kind="both")
        output = 0 if len(classes) == 2 else classes.index(curve["class"])
        for key, theirs in [("grid", ref["grid_values"][0]), ("average", ref["average"][output]),
                            ("individual", ref["individual"][output])]:
            if key in curve:  # individual only for kind "individual" or "both"
                worst[key] = max(worst[key], float(np.abs(np.array(curve[key]) - theirs).max()))
        worst["curves"] += 1
    return worst


def association(table, target, covariate):
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association as cramer, crosstab

    rows = read_table(table)
    counts = crosstab(column(rows, target), column(rows, covariate)).count
    return {"cramers_v": cramer(counts, method="cramer"), "p_value": chi2_contingency(counts, correction=False).pvalue}


MASK = (1 << 64) - 1


class SplitMix64:
    """Statistics.SeededGenerator: SplitMix64 with Lemire's multiply-and-reject bounded draws."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, bound):
        m = self.next() * bound
        if (m & MASK) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (m & MASK) < threshold:
                m = self.next() * bound
        return m >> 64

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]


def permuting_columns(x, seed):
    """Inference.permutingColumns: one order shuffled again for each column in turn."""
    rng, order, out = SplitMix64(seed), list(range(len(x))), x.copy()
    for j in range(x.shape[1]):
        rng.shuffle(order)
        out[:, j] = x[order, j]
    return out


def well_values(source):
    import glob
    import os

    if os.path.isdir(source):
        sums = {}
        for path in sorted(glob.glob(os.path.join(source, "*", "*.npz"))):
            plate, well = os.path.basename(os.path.dirname(path)), os.path.basename(path).split("_")[0]
            f = np.load(path, allow_pickle=True)["features"].astype(float)
            s, n = sums.get((plate, well), (0.0, 0))
            sums[(plate, well)] = (s + f.sum(axis=0), n + len(f))
        return {k: {f"DeepProfiler_{j}": v for j, v in enumerate(s / n)} for k, (s, n) in sums.items()}
    return {(r["Metadata_Plate"], r["Metadata_Well"]): r for r in read_table(source)}


def nuisance(source, spec_path):
    import re
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
    from sklearn.preprocessing import StandardScaler

    with open(spec_path) as f:
        spec = json.load(f)
    table = well_values(source)
    x = np.array([[float(table[(p, w)][c]) for c in spec["columns"]] for p, w in spec["wells"]])
    if spec["components"]:
        # The audit fits the components once, on every well of the table with the columns' values, and scores the
        # probed wells on them.
        basis = [k for k, r in table.items() if all(np.isfinite(float(r[c])) for c in spec["columns"])]
        xb = np.array([[float(table[k][c]) for c in spec["columns"]] for k in basis])
        z = StandardScaler().fit_transform(xb).astype(np.float32).astype(float)
        k = min(spec["components"], len(xb) - 1)
        scores = PCA(n_components=k, svd_solver="full").fit_transform(z).astype(np.float32).astype(float)
        index = {key: i for i, key in enumerate(basis)}
        x = scores[[index[(p, w)] for p, w in spec["wells"]]]
    target = spec["target"]

    def label(p, w):
        m = re.match(r"([A-Za-z]+)0*(\d+)", w)
        return {"plate": p, "row": m.group(1).upper(), "column": m.group(2)}[target]

    y = np.array([label(p, w) for p, w in spec["wells"]])
    groups = np.array(spec["groups"])
    classes = np.unique(y)
    folds = [(np.where(~np.isin(groups, t))[0], np.where(np.isin(groups, t))[0]) for t in spec["folds"]]

    def fit_predict(features, labels, splits, cs):
        p = np.zeros((len(labels), len(classes)))
        per_fold = []
        for (train, test), c in zip(splits, cs):
            scaler = StandardScaler().fit(features[train])
            model = LogisticRegression(C=c, tol=1e-10, max_iter=100000)
            model.fit(scaler.transform(features[train]), labels[train])
            q = np.zeros((len(test), len(classes)))
            q[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(scaler.transform(features[test]))
            p[test] = q
            t = labels[test]
            predicted = classes[q.argmax(axis=1)]
            aucs = []
            for k in ([1] if len(classes) == 2 else range(len(classes))):
                positive = t == classes[k]
                if positive.any() and not positive.all():
                    aucs.append(roc_auc_score(positive, q[:, k]))
            per_fold.append({"accuracy": accuracy_score(t, predicted),
                             "balanced_accuracy": balanced_accuracy_score(t, predicted),
                             "auc": float(np.mean(aucs)) if aucs else None})
        return balanced_accuracy_score(labels, classes[p.argmax(axis=1)]), per_fold

    score, per_fold = fit_predict(x, y, folds, spec["c"])
    baseline, _ = fit_predict(permuting_columns(x, spec["column_seed"]), y, folds, spec["c"])
    units, strata = np.array(spec["units"]), np.array(spec["strata"] or ["-"] * len(y))
    rng = np.random.default_rng(0)
    null = []
    for i in range(spec["permutations"]):
        permuted = y.copy()
        for s in np.unique(strata):
            names = sorted(set(units[strata == s]))
            of_unit = {u: y[(units == u) & (strata == s)][0] for u in names}
            values = rng.permutation([of_unit[u] for u in names])
            mapping = dict(zip(names, values))
            for r in np.where(strata == s)[0]:
                permuted[r] = mapping[units[r]]
        k = len(spec["folds"])
        # Stratified when every class has a unit for each fold (scikit-learn refuses otherwise), else grouped only.
        if min(np.unique(permuted, return_counts=True)[1]) >= k:
            splits = list(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=i).split(x, permuted, groups))
        else:
            splits = list(GroupKFold(n_splits=k).split(x, permuted, groups))
        null.append(fit_predict(x, permuted, splits, [spec["c"][0]] * len(splits))[0])
    return {"score": score, "folds": per_fold, "column_permuted": baseline, "null_mean": float(np.mean(null)),
            "null_sd": float(np.std(null, ddof=1)), "rows": len(y), "columns": int(x.shape[1])}


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "probe":
        print(json.dumps(probe(*arguments[:4], int(arguments[4]))))
    elif command == "nested":
        print(json.dumps(nested(*arguments)))
    elif command == "embeddings":
        embeddings(*arguments)
    elif command == "inspect":
        print(json.dumps(inspect(*arguments)))
    elif command == "explain":
        print(json.dumps(explain(*arguments)))
    elif command == "nuisance":
        print(json.dumps(nuisance(*arguments)))
    elif command == "association":
        print(json.dumps(association(*arguments)))
