"""Load deploy/k8s/*.yaml and check every document against the Kubernetes object schema, strictly.

The `kubernetes` client's models (pydantic, extra fields forbidden, strict types) do most of it; on top
of them every key must be the API's own camelCase name (the models also accept their snake_case Python
names, which the API server would drop), enumerated fields must hold one of their values, object names
must be DNS-1123, and resource quantities must parse. A failure is a ManifestError naming the document
and the path of the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml
from kubernetes import client
from kubernetes.utils import parse_quantity

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"

# (apiVersion, kind) -> the model that document must deserialize into.
MODELS: dict[tuple[str, str], type[pydantic.BaseModel]] = {
    ("v1", "ConfigMap"): client.V1ConfigMap,
    ("v1", "Service"): client.V1Service,
    ("v1", "PersistentVolumeClaim"): client.V1PersistentVolumeClaim,
    ("v1", "Pod"): client.V1Pod,
    ("apps/v1", "Deployment"): client.V1Deployment,
    ("apps/v1", "StatefulSet"): client.V1StatefulSet,
    ("batch/v1", "Job"): client.V1Job,
    ("networking.k8s.io/v1", "NetworkPolicy"): client.V1NetworkPolicy,
}

# Fields the models type as plain strings but the API server accepts only a few values of.
ENUMS: dict[tuple[str, str], frozenset[str]] = {
    ("V1Container", "imagePullPolicy"): frozenset({"Always", "IfNotPresent", "Never"}),
    ("V1PodSpec", "restartPolicy"): frozenset({"Always", "OnFailure", "Never"}),
    ("V1DeploymentStrategy", "type"): frozenset({"Recreate", "RollingUpdate"}),
    ("V1StatefulSetSpec", "podManagementPolicy"): frozenset({"OrderedReady", "Parallel"}),
    ("V1ServiceSpec", "type"): frozenset({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}),
    ("V1ServicePort", "protocol"): frozenset({"TCP", "UDP", "SCTP"}),
    ("V1ContainerPort", "protocol"): frozenset({"TCP", "UDP", "SCTP"}),
    ("V1NetworkPolicyPort", "protocol"): frozenset({"TCP", "UDP", "SCTP"}),
    ("V1NetworkPolicySpec", "policyTypes"): frozenset({"Ingress", "Egress"}),
    ("V1PersistentVolumeClaimSpec", "accessModes"): frozenset(
        {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}
    ),
    ("V1SeccompProfile", "type"): frozenset({"RuntimeDefault", "Localhost", "Unconfined"}),
}
_QUANTITY_FIELDS = {("V1ResourceRequirements", "requests"), ("V1ResourceRequirements", "limits")}
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class ManifestError(ValueError):
    """A document that the API server would refuse (or silently change); the message says where."""


@dataclass(frozen=True)
class Manifest:
    """One YAML document of deploy/k8s: where it is, its raw mapping and the validated model."""

    path: Path
    index: int
    raw: dict[str, Any]
    model: pydantic.BaseModel

    @property
    def kind(self) -> str:
        return self.raw["kind"]

    @property
    def name(self) -> str:
        return self.raw["metadata"]["name"]

    def __str__(self) -> str:
        return f"{self.path.name}#{self.index} {self.kind}/{self.name}"


def _walk(data: object, type_name: str, where: str) -> None:
    """Check every key of `data` is a JSON field name of model `type_name`, recursively, plus the enums
    and quantities; the model's own validation checks the types and the required fields."""
    if data is None:
        return
    if (match := re.fullmatch(r"List\[(.+)\]", type_name)) is not None:
        for i, item in enumerate(data if isinstance(data, list) else []):
            _walk(item, match.group(1), f"{where}[{i}]")
        return
    if (match := re.fullmatch(r"Dict\[str, (.+)\]", type_name)) is not None:
        for key, value in (data if isinstance(data, dict) else {}).items():
            _walk(value, match.group(1), f"{where}.{key}")
        return
    model = getattr(client.models, type_name, None)
    if model is None or not isinstance(data, dict):
        return  # a primitive (or a wrong type): the model's validation answers
    python_names = {json: python for python, json in model.attribute_map.items()}
    for key, value in data.items():
        if key not in python_names:
            close = [json for json in python_names if json.lower() == str(key).replace("_", "").lower()]
            hint = f"did you mean {close[0]!r}?" if close else f"allowed {', '.join(sorted(python_names))}"
            raise ManifestError(f"{where}.{key}: not a field of {type_name}; {hint}")
        allowed = ENUMS.get((type_name, key))
        if allowed is not None:
            for item in value if isinstance(value, list) else [value]:
                if item not in allowed:
                    raise ManifestError(f"{where}.{key}: {item!r} is not one of {sorted(allowed)}")
        if (type_name, key) in _QUANTITY_FIELDS and isinstance(value, dict):
            for resource, quantity in value.items():
                try:
                    parse_quantity(quantity)
                except ValueError:
                    raise ManifestError(f"{where}.{key}.{resource}: {quantity!r} is not a quantity") from None
        _walk(value, model.openapi_types[python_names[key]], f"{where}.{key}")


def validate(document: object, where: str = "document") -> pydantic.BaseModel:
    """The model `document` deserializes into, or ManifestError saying which field is wrong and why."""
    if not isinstance(document, dict):
        raise ManifestError(f"{where}: a {type(document).__name__}, not a mapping")
    key = (document.get("apiVersion"), document.get("kind"))
    model = MODELS.get(key)  # type: ignore[arg-type]
    if model is None:
        raise ManifestError(f"{where}: apiVersion/kind {key} is not one of {sorted(MODELS)}")
    name = (document.get("metadata") or {}).get("name")
    if not isinstance(name, str) or _DNS1123_LABEL.fullmatch(name) is None:
        raise ManifestError(f"{where}.metadata.name: {name!r} is not a DNS-1123 label")
    _walk(document, model.__name__, where)
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise ManifestError(f"{where}.{path}: {first['msg']} ({error.error_count()} error(s))") from None


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest of deploy/k8s (the kustomization file is kustomize's, not an object)."""
    return sorted(path for path in K8S.glob("*.yaml") if path != KUSTOMIZATION)


def load(path: Path) -> list[Manifest]:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    return [
        Manifest(path, index, doc, validate(doc, f"{path.name}#{index}"))
        for index, doc in enumerate(documents)
    ]


def load_all() -> list[Manifest]:
    return [manifest for path in manifest_files() for manifest in load(path)]


def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = [m for m in manifests if m.kind == kind and m.name == name]
    if len(found) != 1:
        raise AssertionError(f"{kind}/{name}: {len(found)} documents in deploy/k8s, expected 1")
    return found[0]
