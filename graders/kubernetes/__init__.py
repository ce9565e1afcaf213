"""Kubernetes manifests: parsed with line numbers, validated against the real API schemas,
checked with the rules a reviewer applies, and applied to a cluster only when one is reachable.

Three layers, each collecting *every* finding into a :class:`~graders.report.Report`:

1. **Loading** (:func:`load_manifests`, :func:`parse_manifests`): the file must exist, not be
   the released placeholder, be valid YAML without duplicate keys, and hold Kubernetes objects
   (mappings with ``apiVersion`` and ``kind``). Every document remembers the line of each
   field, so a finding can say ``deployment.yaml doc 1 (Deployment churn-api) line 14:
   spec.selector.matchLabels``.
2. **Schema** (:func:`check_schema`): the OpenAPI schemas of Kubernetes
   :data:`KUBERNETES_VERSION` shipped by ``kubernetes-validate``, in strict mode (unknown
   fields are errors, as with ``kubectl apply --validate=strict``). ``kubernetes_validate.
   validate`` stops at the first error; here the same schemas and registry feed a
   ``Draft202012Validator`` whose ``iter_errors`` gives all of them.
3. **Semantics** (:data:`RULES`): what the schema cannot see because it spans fields or
   documents: selectors that match their pods, Services that reach a container port, an HPA
   that targets an existing Deployment, probes on declared ports, pinned images, resources,
   ConfigMaps and Secrets that exist, secrets kept out of the Deployment, rollouts that keep
   capacity, valid CronJob schedules.

:func:`check_files` runs all three. :func:`dry_run` is the optional live layer: with a
kubeconfig and ``kubectl`` it runs ``kubectl apply --dry-run=server``; otherwise it notes
that it skipped and shows the command. Nothing here raises for bad student input.
"""

from graders.formats.cron import CronError  # what expand_cron raises; 04's checks name it
from graders.kubernetes.config import (
    EnvSource,
    check_config_refs,
    check_inline_secrets,
    check_secret_data,
    container_env,
)
from graders.kubernetes.cronjobs import check_cronjobs, expand_cron
from graders.kubernetes.live import dry_run, find_kubeconfig, kubectl_command
from graders.kubernetes.manifests import (
    KUBERNETES_VERSION,
    PROBE_DEFAULTS,
    PROBES,
    SCALABLE_KINDS,
    WORKLOAD_KINDS,
    Manifest,
    Path_,
    as_items,
    as_mapping,
    dig,
    format_path,
    load_manifests,
    manifests_from_objects,
    parse_manifests,
    parse_path,
    show_labels,
)
from graders.kubernetes.pods import (
    MISSING,
    PodTemplate,
    check_selectors,
    container,
    expect,
    find,
    pod_templates,
    selects,
    single,
)
from graders.kubernetes.resources import (
    REQUIRED_RESOURCES,
    check_resources,
    parse_quantity,
    same_quantity,
)
from graders.kubernetes.review import RULES, Rule, check_files, check_manifests
from graders.kubernetes.rollouts import check_rollout
from graders.kubernetes.schema import check_schema
from graders.kubernetes.workloads import (
    check_hpa,
    check_images,
    check_probe_timing,
    check_probes,
    check_services,
    port_matches,
    probe_patience,
    show_ports,
    split_image,
    startup_allowance,
)

__all__ = [
    "KUBERNETES_VERSION",
    "MISSING",
    "PROBES",
    "PROBE_DEFAULTS",
    "REQUIRED_RESOURCES",
    "RULES",
    "SCALABLE_KINDS",
    "WORKLOAD_KINDS",
    "CronError",
    "EnvSource",
    "Manifest",
    "Path_",
    "PodTemplate",
    "Rule",
    "as_items",
    "as_mapping",
    "check_config_refs",
    "check_cronjobs",
    "check_files",
    "check_hpa",
    "check_images",
    "check_inline_secrets",
    "check_manifests",
    "check_probe_timing",
    "check_probes",
    "check_resources",
    "check_rollout",
    "check_schema",
    "check_secret_data",
    "check_selectors",
    "check_services",
    "container",
    "container_env",
    "dig",
    "dry_run",
    "expand_cron",
    "expect",
    "find",
    "find_kubeconfig",
    "format_path",
    "kubectl_command",
    "load_manifests",
    "manifests_from_objects",
    "parse_manifests",
    "parse_path",
    "parse_quantity",
    "pod_templates",
    "port_matches",
    "probe_patience",
    "same_quantity",
    "selects",
    "show_labels",
    "show_ports",
    "single",
    "split_image",
    "startup_allowance",
]
