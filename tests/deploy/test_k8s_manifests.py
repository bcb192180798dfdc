"""deploy/k8s: every document is a valid Kubernetes object (strict: a typo'd field or a wrong type fails),
the documents refer to each other correctly, the containers run commands the edgeswarm CLI accepts, and
the resources, probes and security settings are the ones the README promises.

Validated against the schemas of the `kubernetes` client, not run on a cluster."""

from __future__ import annotations

import copy
import io
import math
import re
import subprocess
import sys
from contextlib import redirect_stderr
from urllib.parse import urlsplit

import pytest
import yaml
from edgeswarm import __version__
from edgeswarm.cli import build_parser
from edgeswarm.mqtt.device_fleet import parse_shard, shard_range
from edgeswarm.mqtt.faults import parse_duration
from kubernetes.utils import parse_quantity

from tests.deploy.manifests import (
    K8S,
    KUSTOMIZATION,
    MODELS,
    ROOT,
    Manifest,
    ManifestError,
    find,
    load,
    load_all,
    manifest_files,
    validate,
)

WORKLOADS = {"Deployment", "StatefulSet", "Job", "Pod"}
# The issue's memory target per MQTT device; a shard's memory request must hold its devices at it.
BYTES_PER_DEVICE = 50 * 1024
# Applied by hand after an experiment (its header says how), so not in kustomization.yaml.
NOT_IN_KUSTOMIZATION = {"results-reader.yaml"}

# What each container runs: the image's ENTRYPOINT (edgeswarm) + args, or its own command. Changing a
# manifest's command means changing this table, and every edgeswarm line here is parsed by the CLI.
COMMANDS: dict[tuple[str, str, str], list[str]] = {
    ("Deployment", "edgeswarm-broker", "mosquitto"): [
        "/usr/sbin/mosquitto", "-c", "/etc/edgeswarm/mosquitto/mosquitto.conf",
    ],
    ("StatefulSet", "edgeswarm-devices", "devices"): [
        "edgeswarm", "devices", "--broker", "mqtt://edgeswarm-broker:1883", "--fleet", "k8s",
        "--devices", "20000", "--shard", "auto/4", "--qos", "1", "--seed", "1",
    ],
    ("Job", "edgeswarm-experiment", "experiment"): [
        "edgeswarm", "experiment", "mqtt", "--devices", "50", "--duration", "20m", "--latency-ms", "10:500",
        "--loss", "0.1", "--fail-prob", "0.05", "--fail-every", "30s", "--fail-duration", "30s",
        "--qos", "1", "--seed", "1", "--out", "/results",
    ],
    ("Pod", "edgeswarm-results-reader", "reader"): ["sleep", "3600"],
}  # fmt: skip
# Commands that are not edgeswarm's, and what checks them instead of the CLI's parser.
OTHER_COMMANDS = {
    "/usr/sbin/mosquitto": "the Debian package's broker; tests/deploy/test_broker_config.py runs this config",
    "sleep": "coreutils, in every Debian base image",
}


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    return load_all()


def _pod_spec(manifest: Manifest) -> dict:
    spec = manifest.raw["spec"]
    return spec if manifest.kind == "Pod" else spec["template"]["spec"]


def _pod_labels(manifest: Manifest) -> dict[str, str]:
    if manifest.kind == "Pod":
        return manifest.raw["metadata"].get("labels", {})
    return manifest.raw["spec"]["template"]["metadata"].get("labels", {})


def _containers(manifests: list[Manifest]):
    for manifest in manifests:
        if manifest.kind in WORKLOADS:
            for container in _pod_spec(manifest)["containers"]:
                yield manifest, container


def _entrypoint() -> list[str]:
    (line,) = [
        text
        for text in (ROOT / "deploy" / "Dockerfile").read_text().splitlines()
        if text.startswith("ENTRYPOINT")
    ]
    return yaml.safe_load(line.removeprefix("ENTRYPOINT"))  # the exec form is a JSON (so YAML) list


def _argv(container: dict) -> list[str]:
    return container.get("command", _entrypoint()) + container.get("args", [])


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


# --- the schema -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", manifest_files(), ids=lambda path: path.name)
def test_every_document_is_a_kubernetes_object_that_round_trips(path):
    loaded = load(path)  # raises ManifestError on the first field the API server would refuse
    assert loaded, f"{path.name}: no documents"
    for manifest in loaded:
        assert type(manifest.model) is MODELS[(manifest.raw["apiVersion"], manifest.kind)]
        # Nothing dropped, renamed or coerced: the model serializes back to exactly the document.
        assert manifest.model.model_dump(by_alias=True, exclude_none=True) == manifest.raw, manifest


def test_the_manifests_hold_the_objects_of_the_issue(manifests):
    kinds = {(m.kind, m.name) for m in manifests}
    assert {
        ("ConfigMap", "edgeswarm-broker-config"),
        ("Deployment", "edgeswarm-broker"),
        ("Service", "edgeswarm-broker"),
        ("StatefulSet", "edgeswarm-devices"),
        ("Service", "edgeswarm-devices"),
        ("Job", "edgeswarm-experiment"),
        ("PersistentVolumeClaim", "edgeswarm-results"),
    } <= kinds


def _broker_deployment() -> dict:
    (doc,) = [d for d in yaml.safe_load_all((K8S / "broker.yaml").read_text()) if d["kind"] == "Deployment"]
    return doc


def _container(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


def _set(path: list[str | int], value: object):
    def mutate(doc: dict) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: list[str | int]):
    def mutate(doc: dict) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


_C = ["spec", "template", "spec", "containers", 0]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set(["spec", "replica"], 2), r"spec\.replica: not a field of V1DeploymentSpec"),
        (_set([*_C, "imagePullPolicy"], "IfNotPresnt"), r"imagePullPolicy: 'IfNotPresnt' is not one of"),
        (_set([*_C, "image_pull_policy"], "Always"), r"image_pull_policy: .* did you mean 'imagePullPolicy'"),
        (_set([*_C, "readinesProbe"], {"periodSeconds": 5}), r"readinesProbe: not a field of V1Container"),
        (_set([*_C, "ports", 0, "containerPort"], "1883"), r"containerPort: Input should be a valid int"),
        (_set(["spec", "replicas"], True), r"spec\.replicas: Input should be a valid integer"),
        (_set([*_C, "ports"], {"name": "mqtt", "containerPort": 1883}), r"ports: Input should be a valid li"),
        (_set([*_C, "resources", "limits", "memory"], "1 GB"), r"limits\.memory: '1 GB' is not a quanti"),
        (_delete(["spec", "template", "spec", "containers"]), r"template\.spec\.containers: Field required"),
        (_delete(["spec", "selector"]), r"spec\.selector: Field required"),
        (_delete([*_C, "name"]), r"containers\.0\.name: Field required"),
        (_set(["kind"], "Deploymnet"), r"apiVersion/kind \('apps/v1', 'Deploymnet'\) is not one of"),
        (_set(["metadata", "name"], "Edgeswarm_Broker"), r"metadata\.name: 'Edgeswarm_Broker' is not a DNS"),
    ],
    ids=[
        "typo-field", "enum-typo", "snake-case-key", "typo-nested-field", "port-as-string", "bool-as-int",
        "mapping-for-list", "bad-quantity", "missing-containers", "missing-selector", "missing-name",
        "unknown-kind", "bad-name",
    ],
)  # fmt: skip
def test_a_broken_document_is_refused_naming_the_field(mutate, message):
    document = _broker_deployment()
    validate(copy.deepcopy(document))  # the untouched document passes: the mutation is what fails
    mutate(document)
    with pytest.raises(ManifestError, match=message):
        validate(document)


# --- cross-references -------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_but_the_reader():
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    assert all((K8S / name).is_file() for name in resources), resources
    assert set(resources) == {path.name for path in manifest_files()} - NOT_IN_KUSTOMIZATION


def test_workload_selectors_match_their_pod_labels(manifests):
    for manifest in manifests:
        if manifest.kind in {"Deployment", "StatefulSet"}:  # a Job's selector is generated
            selector = manifest.raw["spec"]["selector"]["matchLabels"]
            assert _selects(selector, _pod_labels(manifest)), manifest


def test_each_service_selects_the_pods_of_one_workload_and_its_ports_exist(manifests):
    workloads = [m for m in manifests if m.kind in WORKLOADS]
    for service in (m for m in manifests if m.kind == "Service"):
        selector = service.raw["spec"]["selector"]
        selected = [w for w in workloads if _selects(selector, _pod_labels(w))]
        assert len(selected) == 1, (str(service), [str(w) for w in selected])
        ports = [p for c in _pod_spec(selected[0])["containers"] for p in c.get("ports", [])]
        for port in service.raw["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            key = "name" if isinstance(target, str) else "containerPort"
            assert any(p.get(key) == target for p in ports), (str(service), target, ports)


def test_volumes_refer_to_existing_configmaps_and_claims_and_every_mount_to_a_volume(manifests):
    names = {(m.kind, m.name) for m in manifests}
    for manifest in (m for m in manifests if m.kind in WORKLOADS):
        volumes = {v["name"]: v for v in _pod_spec(manifest).get("volumes", [])}
        for volume in volumes.values():
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in names, (str(manifest), volume)
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", claim) in names, (str(manifest), volume)
        mounted = {
            mount["name"] for c in _pod_spec(manifest)["containers"] for mount in c.get("volumeMounts", [])
        }
        assert mounted == set(volumes), (str(manifest), mounted, set(volumes))


def test_the_broker_runs_the_mounted_configmap_config(manifests):
    deployment = find(manifests, "Deployment", "edgeswarm-broker")
    (container,) = _pod_spec(deployment)["containers"]
    config_path = _option(_argv(container), "-c")
    volumes = {v["name"]: v for v in _pod_spec(deployment)["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if config_path.startswith(m["mountPath"] + "/")]
    config_map = find(manifests, "ConfigMap", volumes[mount["name"]]["configMap"]["name"])
    assert mount.get("readOnly") is True
    assert config_path.removeprefix(mount["mountPath"] + "/") in config_map.raw["data"]


def test_the_broker_config_writes_only_into_a_writable_volume(manifests):
    deployment = find(manifests, "Deployment", "edgeswarm-broker")
    (container,) = _pod_spec(deployment)["containers"]
    config = find(manifests, "ConfigMap", "edgeswarm-broker-config").raw["data"]["mosquitto.conf"]
    (location,) = re.findall(r"^persistence_location (\S+)$", config, re.MULTILINE)
    writable = [m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")]
    assert location.rstrip("/") in writable, (location, writable)
    assert re.findall(r"^log_dest (\S+)$", config, re.MULTILINE) == ["stdout"]  # nothing else to write


def test_the_statefulset_has_a_headless_service_selecting_its_pods(manifests):
    stateful_set = find(manifests, "StatefulSet", "edgeswarm-devices")
    service = find(manifests, "Service", stateful_set.raw["spec"]["serviceName"])
    assert service.raw["spec"]["clusterIP"] == "None"
    assert _selects(service.raw["spec"]["selector"], _pod_labels(stateful_set))


def test_the_network_policy_admits_the_device_shards_to_the_broker(manifests):
    policy = find(manifests, "NetworkPolicy", "edgeswarm-broker").raw["spec"]
    broker = find(manifests, "Deployment", "edgeswarm-broker")
    assert _selects(policy["podSelector"]["matchLabels"], _pod_labels(broker))
    (rule,) = policy["ingress"]
    admitted = [peer["podSelector"]["matchLabels"] for peer in rule["from"]]
    for client in ("StatefulSet", "edgeswarm-devices"), ("Job", "edgeswarm-experiment"):
        assert any(_selects(s, _pod_labels(find(manifests, *client))) for s in admitted), client
    assert [p["port"] for p in rule["ports"]] == [1883]


# --- the commands -----------------------------------------------------------------------------------


def test_every_container_runs_the_command_of_the_table(manifests):
    running = {(m.kind, m.name, c["name"]): _argv(c) for m, c in _containers(manifests)}
    assert running == COMMANDS
    assert _entrypoint() == ["edgeswarm"]
    for argv in running.values():
        assert argv[0] == "edgeswarm" or argv[0] in OTHER_COMMANDS, argv


def _subcommands() -> set[str]:
    (action,) = [a for a in build_parser()._subparsers._group_actions if a.choices]
    return set(action.choices)


@pytest.mark.parametrize(
    "key", [key for key, argv in COMMANDS.items() if argv[0] == "edgeswarm"], ids=lambda key: key[1]
)
def test_edgeswarm_commands_are_accepted_by_the_cli_parser(key):
    argv = COMMANDS[key][1:]
    assert argv[0] in _subcommands(), f"edgeswarm has no subcommand {argv[0]!r}"
    parser, errors = build_parser(), io.StringIO()
    try:
        with redirect_stderr(errors):
            args = parser.parse_args(argv)  # parsed, not run
            args.check(args)  # the rules across options that main() applies before any work
    except SystemExit as exit_:
        pytest.fail(f"edgeswarm {' '.join(argv)}: refused (exit {exit_.code}): {errors.getvalue().strip()}")
    except ValueError as error:
        pytest.fail(f"edgeswarm {' '.join(argv)}: refused by its check: {error}")


def test_device_shards_reach_the_broker_service(manifests):
    argv = COMMANDS[("StatefulSet", "edgeswarm-devices", "devices")]
    url = urlsplit(_option(argv, "--broker"))
    service = find(manifests, "Service", url.hostname or "")
    assert url.scheme == "mqtt" and url.port in [p["port"] for p in service.raw["spec"]["ports"]]
    assert _selects(
        service.raw["spec"]["selector"], _pod_labels(find(manifests, "Deployment", "edgeswarm-broker"))
    )


def test_the_ordinals_of_the_statefulset_split_the_fleet_into_its_shards(manifests):
    stateful_set = find(manifests, "StatefulSet", "edgeswarm-devices")
    argv = COMMANDS[("StatefulSet", stateful_set.name, "devices")]
    replicas, devices = stateful_set.raw["spec"]["replicas"], int(_option(argv, "--devices"))
    shard_text = _option(argv, "--shard")
    assert shard_text == f"auto/{replicas}"  # one shard per pod: change replicas and N together
    owned = []
    for ordinal in range(replicas):  # a StatefulSet's pod (and host) names are <set>-<ordinal>
        shard, shards = parse_shard(shard_text, hostname=f"{stateful_set.name}-{ordinal}")
        assert (shard, shards) == (ordinal, replicas)
        owned += list(shard_range(devices, shard, shards))
    assert owned == list(range(devices))  # contiguous, disjoint, complete


def test_the_experiment_job_writes_to_its_claim_and_has_time_to_finish(manifests):
    job = find(manifests, "Job", "edgeswarm-experiment")
    argv = COMMANDS[("Job", job.name, "experiment")]
    (container,) = _pod_spec(job)["containers"]
    volumes = {v["name"]: v for v in _pod_spec(job)["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == _option(argv, "--out")]
    assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == "edgeswarm-results"
    assert not mount.get("readOnly")
    assert _pod_spec(job)["restartPolicy"] == "Never" and job.raw["spec"]["backoffLimit"] == 0
    duration_s = parse_duration(_option(argv, "--duration"))
    assert duration_s < job.raw["spec"]["activeDeadlineSeconds"] <= 2 * duration_s


# --- resources, probes, security --------------------------------------------------------------------


def test_every_container_requests_and_limits_cpu_and_memory(manifests):
    for manifest, container in _containers(manifests):
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request = parse_quantity(resources["requests"][resource])
            limit = parse_quantity(resources["limits"][resource])
            assert 0 < request <= limit, (str(manifest), resource, request, limit)


def _interpreter_rss_bytes() -> int:
    """Peak RSS of a fresh interpreter that imports what a device shard imports (measured, not assumed)."""
    # VmHWM, not getrusage's ru_maxrss: a child keeps its parent's (this test process's) maxima across exec.
    code = (
        "import re, pathlib, edgeswarm.cli, edgeswarm.mqtt.device_fleet; "
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', pathlib.Path('/proc/self/status').read_text()).group(1))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(result.stdout) * 1024


def test_a_shard_requests_the_memory_of_its_devices_at_the_target_plus_the_interpreter(manifests):
    stateful_set = find(manifests, "StatefulSet", "edgeswarm-devices")
    argv = COMMANDS[("StatefulSet", stateful_set.name, "devices")]
    per_shard = math.ceil(int(_option(argv, "--devices")) / stateful_set.raw["spec"]["replicas"])
    assert per_shard <= 5000  # the issue's 5,000 devices per process
    (container,) = _pod_spec(stateful_set)["containers"]
    request = parse_quantity(container["resources"]["requests"]["memory"])
    needed = per_shard * BYTES_PER_DEVICE + _interpreter_rss_bytes()
    assert needed <= request <= 1.5 * needed, (needed, request)


def test_the_broker_is_probed_on_its_mqtt_port(manifests):
    (container,) = _pod_spec(find(manifests, "Deployment", "edgeswarm-broker"))["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    config = find(manifests, "ConfigMap", "edgeswarm-broker-config").raw["data"]["mosquitto.conf"]
    (listener,) = re.findall(r"^listener (\d+) (\S+)$", config, re.MULTILINE)
    assert listener == (str(ports["mqtt"]), "0.0.0.0") and ports["mqtt"] == 1883
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["tcpSocket"]["port"] in ("mqtt", 1883), probe


def _dockerfile_user() -> tuple[int, int]:
    (line,) = [
        text for text in (ROOT / "deploy" / "Dockerfile").read_text().splitlines() if text.startswith("USER ")
    ]
    uid, gid = line.split()[1].split(":")
    return int(uid), int(gid)


def test_every_pod_runs_as_the_images_non_root_user_with_a_read_only_root(manifests):
    uid, gid = _dockerfile_user()
    assert uid > 0 and gid > 0
    for manifest in (m for m in manifests if m.kind in WORKLOADS):
        pod = _pod_spec(manifest)["securityContext"]
        assert pod["runAsNonRoot"] is True and (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid), manifest
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", manifest
        for container in _pod_spec(manifest)["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, manifest
            assert security["readOnlyRootFilesystem"] is True, manifest
            assert security["capabilities"]["drop"] == ["ALL"], manifest


def test_python_containers_have_a_writable_tmp(manifests):
    # HOME and MPLCONFIGDIR are /tmp (deploy/Dockerfile), and Python's tempfile writes there.
    for manifest, container in _containers(manifests):
        if _argv(container)[0] == "edgeswarm":
            mounts = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert len(mounts) == 1 and not mounts[0].get("readOnly"), manifest


def _image() -> str:
    return f"edgeswarm:{__version__}"  # the installed package's version, the one of pyproject.toml


def test_every_container_runs_the_image_the_dockerfile_builds(manifests):
    image = _image()
    for manifest, container in _containers(manifests):
        assert container["image"] == image, manifest
        assert container["imagePullPolicy"] == "IfNotPresent", manifest  # a locally loaded image works
    build = f"docker build -f deploy/Dockerfile -t {image} ."
    assert build in (ROOT / "deploy" / "Dockerfile").read_text()
    assert build in (K8S / "README.md").read_text()


def test_the_readmes_resize_patch_gives_a_valid_statefulset_of_consistent_shards(manifests):
    readme = (K8S / "README.md").read_text()
    (patch_text,) = re.findall(
        r"patch statefulset edgeswarm-devices --type json -p '(.+?)'", readme, re.DOTALL
    )
    stateful_set = copy.deepcopy(find(manifests, "StatefulSet", "edgeswarm-devices").raw)
    for operation in yaml.safe_load(patch_text):  # JSON is YAML
        assert operation["op"] == "replace"
        *parents, last = operation["path"].strip("/").split("/")
        target = stateful_set
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        key = int(last) if isinstance(target, list) else last
        assert key in range(len(target)) if isinstance(target, list) else key in target, operation["path"]
        target[key] = operation["value"]
    validate(stateful_set)
    argv = stateful_set["spec"]["template"]["spec"]["containers"][0]["args"]
    replicas, devices = stateful_set["spec"]["replicas"], int(_option(argv, "--devices"))
    assert _option(argv, "--shard") == f"auto/{replicas}" and devices / replicas <= 5000
    assert (replicas, devices) != (4, 20000)  # it did change the fleet
