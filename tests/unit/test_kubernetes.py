"""The Kubernetes grader, from example manifests and the edge cases of each layer.

Dropping a file into ``examples/kubernetes/negative/`` adds a case: its first line is
``# <rule>: <text>``, where ``<rule>`` is ``load``, ``schema`` or a name in
:data:`graders.kubernetes.RULES`, and ``<text>`` must appear in a finding that this rule
alone produces for the file. Every file in ``positive/`` must pass every rule.
"""

from __future__ import annotations

import base64
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from kubernetes_validate import utils as kv

from graders import Report
from graders import kubernetes as k8s
from graders.formats.cron import CronError

EXAMPLES = Path(__file__).parent / "examples" / "kubernetes"
POSITIVE = sorted((EXAMPLES / "positive").glob("*.yaml"))
NEGATIVE = sorted((EXAMPLES / "negative").glob("*.yaml"))
LAYERS = ("load", "schema")


def expectation(path: Path) -> tuple[str, str]:
    first = path.read_text().splitlines()[0]
    rule, _, text = first.removeprefix("# ").partition(": ")
    return rule.strip(), text.strip()


def findings_text(report: Report) -> str:
    return "\n".join(f.to_text() for f in report.findings)


def parse(text: str, source: str = "test.yaml") -> tuple[Report, list[k8s.Manifest] | None]:
    report = Report("test")
    return report, k8s.parse_manifests(report, text, source)


# -- example files ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.name)
def test_positive_example_passes_every_rule(path):
    report = Report(path.name)
    manifests = k8s.check_files(report, path)
    assert manifests, findings_text(report)
    assert report.ok, findings_text(report)


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.name)
def test_negative_example_is_caught_by_its_rule(path):
    rule, text = expectation(path)
    assert rule in (*LAYERS, *k8s.RULES), f"{path.name}: unknown rule {rule!r} in its first line"
    report = Report(path.name)
    if rule in LAYERS:
        k8s.check_files(report, path, rules=())
    else:
        loaded = k8s.load_manifests(report, path)
        assert loaded is not None, findings_text(report)
        k8s.RULES[rule](report, loaded, ())
    assert any(text in finding.to_text() for finding in report.findings), (
        f"{path.name}: no finding mentions {text!r}; found:\n{findings_text(report)}"
    )
    if rule not in LAYERS:  # the full check reports it too, located in the file
        full = Report(path.name)
        k8s.check_files(full, path)
        assert any(text in f.to_text() and str(path) in f.location for f in full.findings)


def test_every_rule_has_a_negative_example():
    covered = {expectation(path)[0] for path in NEGATIVE}
    missing = {*LAYERS, *k8s.RULES} - covered
    assert not missing, f"no negative example for {sorted(missing)}"


def test_findings_are_located_by_file_document_line_and_field(tmp_path):
    target = tmp_path / "deployment.yaml"
    target.write_text((EXAMPLES / "negative" / "misspelled-field.yaml").read_text())
    report = Report("x")
    k8s.check_files(report, target, rules=())
    missing, unknown = report.findings  # in line order
    assert unknown.location == (
        f"{target} doc 1 (Deployment web) line 21: "
        "spec.template.spec.containers[0].ports[0].containerPor"
    )
    assert unknown.hint == "Did you mean 'containerPort'?"
    assert missing.location.endswith(
        "line 20: spec.template.spec.containers[0].ports[0].containerPort"
    )
    assert missing.message == "a required field is missing"


# -- loading --------------------------------------------------------------------------------


def test_missing_file_is_a_finding_not_an_exception(tmp_path):
    report = Report("x")
    assert k8s.check_files(report, tmp_path / "nope.yaml") is None
    assert "does not exist yet" in findings_text(report)


def test_empty_file_is_a_finding(tmp_path):
    (tmp_path / "empty.yaml").write_text("\n\n")
    report = Report("x")
    assert k8s.load_manifests(report, tmp_path / "empty.yaml") is None
    assert "is empty" in findings_text(report)


def test_released_placeholder_blocks_with_one_finding(tmp_path):
    placeholder = "# YOUR CODE HERE\nraise NotImplementedError()\n"
    (tmp_path / "a.yaml").write_text(placeholder)
    (tmp_path / "b.yaml").write_text("apiVersion: v1\n" + placeholder)
    report = Report("x")
    assert k8s.check_files(report, tmp_path / "a.yaml", tmp_path / "b.yaml") is None
    assert report.blocked
    assert len(report.findings) == 1
    assert "not written yet" in report.findings[0].message


def test_malformed_yaml_names_the_line(tmp_path):
    report, manifests = parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n")
    assert manifests is None
    [finding] = report.findings
    assert finding.location.startswith("test.yaml:")
    assert "not valid YAML" in finding.message


def test_documents_are_numbered_in_file_order_counting_empty_ones():
    text = "---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
    text += "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
    _, manifests = parse(text)
    assert [(m.index, m.name) for m in manifests] == [(2, "a"), (3, "b")]
    assert manifests[1].line(("metadata", "name")) == 9


def test_objects_built_in_python_are_checked_like_files():
    report = Report("x")
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, ["oops"]]
    assert k8s.manifests_from_objects(report, objects, "generated") is None
    assert "generated doc 2: is not a Kubernetes object" in findings_text(report)
    report = Report("x")
    assert k8s.manifests_from_objects(report, {"kind": "Service"}, "generated") is None
    assert "should be a list" in findings_text(report)


# -- schema ---------------------------------------------------------------------------------


def test_every_schema_error_is_reported_not_only_the_first():
    text = (EXAMPLES / "negative" / "quoted-number.yaml").read_text()
    report, manifests = parse(text.replace("replicas: 2", "replicas: two"))
    k8s.check_schema(report, manifests)
    paths = sorted(f.location.rsplit(": ", 1)[1] for f in report.findings)
    assert paths == ["spec.minReadySeconds", "spec.replicas"]


def test_schema_agrees_with_kubernetes_validate():
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "3", "selector": {}, "template": {}},
    }
    with pytest.raises(kv.ValidationError) as caught:
        kv.validate(body, k8s.KUBERNETES_VERSION, strict=True)
    report = Report("x")
    k8s.check_schema(report, [k8s.Manifest("x.yaml", 1, body)])
    assert any(
        f.location.endswith(": " + ".".join(map(str, caught.value.path))) for f in report.findings
    )


def test_stated_version_is_shipped_by_kubernetes_validate():
    assert k8s.KUBERNETES_VERSION in {kv.major_minor(v) for v in kv.all_versions()}


# -- rules in detail ------------------------------------------------------------------------


def test_service_missing_its_pods_names_both_label_sets():
    report, manifests = parse((EXAMPLES / "negative" / "service-selects-nothing.yaml").read_text())
    k8s.check_services(report, manifests)
    [finding] = report.findings
    assert "{app: web-frontend}" in finding.expected
    assert "Deployment web pods: {app: web}" in finding.found


def test_service_targets_a_named_or_numbered_container_port():
    base = (EXAMPLES / "negative" / "service-wrong-target-port.yaml").read_text()
    for target, ok in (("http", True), ("8080", True), ("web", False), ("80", False)):
        report, manifests = parse(base.replace("targetPort: 80", f"targetPort: {target}"))
        k8s.check_services(report, manifests)
        assert report.ok is ok, (target, findings_text(report))


def test_context_objects_resolve_references_but_are_not_judged():
    given = parse((EXAMPLES / "negative" / "no-resources.yaml").read_text())[1]
    report, services = parse(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n"
    )
    k8s.check_manifests(report, services, context=given)
    assert report.ok, findings_text(report)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("250m", "0.25"),
        ("1", "1"),
        (2, "2"),
        (0.5, "0.5"),
        ("512Mi", str(512 * 2**20)),
        ("1Gi", str(2**30)),
        ("1G", "1000000000"),
        ("1e3", "1000"),
        ("1.5Gi", str(3 * 2**29)),
        ("100u", "0.0001"),
    ],
)
def test_parse_quantity(value, expected):
    assert k8s.parse_quantity(value) == Decimal(expected)


@pytest.mark.parametrize("value", ["256MB", "1 Gi", "abc", "", None, True, "Mi"])
def test_parse_quantity_rejects(value):
    assert k8s.parse_quantity(value) is None


def test_expand_cron():
    daily = k8s.expand_cron("30 2 * * *")
    assert daily[:2] == (frozenset({30}), frozenset({2}))
    assert k8s.expand_cron("30 02 * * 0-6") == daily
    assert k8s.expand_cron("@daily") == k8s.expand_cron("0 0 * * *")
    assert k8s.expand_cron("*/20 9-17/4 * jan,Jul MON-FRI")[:2] == (
        frozenset({0, 20, 40}),
        frozenset({9, 13, 17}),
    )
    for bad in ("30 2 * *", "60 * * * *", "* * 0 * *", "* * * * 7", "x * * * *", "5-1 * * * *"):
        with pytest.raises(CronError):
            k8s.expand_cron(bad)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("churn-api", ("churn-api", None, None)),
        ("churn-api:1.4.0", ("churn-api", "1.4.0", None)),
        ("registry:5000/ml/churn-api", ("registry:5000/ml/churn-api", None, None)),
        ("registry:5000/ml/churn-api:2", ("registry:5000/ml/churn-api", "2", None)),
        ("r/ml/api@sha256:ab", ("r/ml/api", None, "sha256:ab")),
    ],
)
def test_split_image(image, expected):
    assert k8s.split_image(image) == expected


def test_rollout_bounds_follow_the_deployment_controller():
    text = (EXAMPLES / "negative" / "rollout-recreate.yaml").read_text()
    text = text.replace("replicas: 2", "replicas: 10").replace(
        "    type: Recreate", "    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}"
    )
    _, manifests = parse(text)
    report = Report("x")
    k8s.check_rollout(report, manifests, min_available=8, max_total=13)
    assert report.ok, findings_text(report)  # 25 % of 10: 2 down (floor), 3 up (ceil)
    report = Report("x")
    k8s.check_rollout(report, manifests, min_available=9, max_total=12)
    assert len(report.findings) == 2


def test_container_env_expands_config_maps_and_lets_env_win():
    manifests = parse((EXAMPLES / "positive" / "model-service.yaml").read_text())[1]
    deployment = k8s.find(manifests, "Deployment")[0]
    container = deployment.get("spec.template.spec.containers[0]")
    env = k8s.container_env(container, manifests)
    assert env["MODEL_THRESHOLD"].kind == "ConfigMap"
    assert (env["MODEL_REGISTRY_TOKEN"].kind, env["MODEL_REGISTRY_TOKEN"].key) == (
        "Secret",
        "MODEL_REGISTRY_TOKEN",
    )


def test_secret_values_are_recognised_when_base64_encoded():
    encoded = base64.b64encode(b"hunter2-long").decode()
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        f"data: {{pw: {encoded}}}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec: {containers: [{name: c, image: 'i:1', env: [{name: X, value: hunter2-long}]}]}\n"
    )
    report, manifests = parse(text)
    k8s.check_inline_secrets(report, manifests)
    assert "X holds a secret" in findings_text(report)
    assert "hunter2" not in findings_text(report)  # never echo the secret back


# -- live -----------------------------------------------------------------------------------


def test_dry_run_is_skipped_with_the_command_when_no_cluster(tmp_path):
    report = Report("x")
    outcome = k8s.dry_run(report, ["kubernetes_work/a.yaml"], environ={"HOME": str(tmp_path)})
    assert outcome is None and report.ok
    [note] = report.notes
    assert note.startswith("skipped: no cluster")
    assert "kubectl apply --dry-run=server --validate=strict -f kubernetes_work/a.yaml" in note


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_dry_run_notes_an_unreachable_cluster_without_failing(tmp_path):
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    environ = {"KUBECONFIG": str(config), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    report = Report("x")
    assert k8s.dry_run(report, [manifest], environ=environ, timeout=20) is None
    assert report.ok
    assert "is not reachable" in report.notes[0]


# -- hostile or odd input: findings, never exceptions --------------------------------------------


def test_alias_bomb_is_refused_quickly():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + "\n".join(levels) + "\n"
    report, manifests = parse(text)
    assert manifests is None
    [finding] = report.findings
    assert "aliases (*name) expand this file" in finding.message


def test_alias_inside_itself_is_a_finding():
    report, manifests = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: a, x: *m}\n")
    assert manifests is None
    assert report.findings[0].location == "test.yaml:3"


def test_nesting_too_deep_is_a_finding():
    report, manifests = parse("apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 5000 + "]" * 5000)
    assert manifests is None and not report.ok


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "1e999999999", "9e99999999Ei"])
def test_quantities_no_cluster_accepts_are_findings(value):
    assert k8s.parse_quantity(value) is None
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "a:1", "resources": {"limits": {}}}]},
    }
    body["spec"]["containers"][0]["resources"]["limits"]["memory"] = value
    report = Report("x")
    k8s.check_resources(report, k8s.manifests_from_objects(report, [body], "p"))
    assert any("is not a Kubernetes quantity" in f.message for f in report.findings)


def test_selector_with_a_list_as_key_does_not_match():
    selector = {"matchExpressions": [{"key": ["app"], "operator": "Exists"}]}
    assert not k8s.selects(selector, {"app": "x"})


def test_a_rule_that_breaks_on_an_odd_shape_becomes_a_finding(monkeypatch):
    def broken(report, manifests, context):
        raise TypeError("boom")

    monkeypatch.setitem(k8s.RULES, "selectors", broken)
    report, manifests = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    k8s.check_manifests(report, manifests, rules=["selectors"])
    [finding] = report.findings
    assert "'selectors' check could not read" in finding.message and "boom" in finding.message
