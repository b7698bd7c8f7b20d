#!/usr/bin/env bash
# Validates Tuku's deploy files; exits non-zero on any problem.
#   - Kubernetes manifests: kubernetes-validate --strict (installed into a venv under .tuku/ when missing).
#     It has no schemas for KEDA's CRDs (ScaledObject, TriggerAuthentication) and only warns about them, so
#     those two get a structural check here instead (fields and cross-references, not the CRD schema).
#   - systemd units: systemd-analyze verify, when it is installed, in a scratch root with stubs for
#     /usr/local/bin/tuku and /bin/sh (verify checks that ExecStart exists). Any message it prints counts as a
#     failure. Then the worker unit's ExecStart is run as systemd would for instance 3, against a stub tuku that
#     prints its arguments, to check the metrics port it derives (9403) and the flags it passes.
#   - Grafana dashboards: parse as JSON (their queries read the views of sql/migrations/0005_dashboards).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.tuku/validate-venv"
kube_version="${KUBERNETES_VERSION:-1.30.0}"
status=0

if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  echo "==> Installing kubernetes-validate into .tuku/validate-venv"
  mkdir -p "$root/.tuku"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate
fi

echo "==> kubernetes-validate --strict (Kubernetes $kube_version): deploy/kubernetes/*.yaml"
if ! "$venv/bin/kubernetes-validate" --strict --kubernetes-version "$kube_version" deploy/kubernetes/*.yaml; then
  status=1
fi

echo "==> KEDA objects (structural check)"
if ! "$venv/bin/python" - deploy/kubernetes/*.yaml <<'PY'
import sys, yaml
docs = [d for path in sys.argv[1:] for d in yaml.safe_load_all(open(path)) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
problems = []
auths = by_kind.get("TriggerAuthentication", {})
secrets = by_kind.get("Secret", {})
for name, so in by_kind.get("ScaledObject", {}).items():
    if so.get("apiVersion") != "keda.sh/v1alpha1": problems.append(f"ScaledObject {name}: apiVersion")
    spec = so.get("spec", {})
    target = spec.get("scaleTargetRef", {})
    if target.get("name") not in by_kind.get(target.get("kind", "Deployment"), {}):
        problems.append(f"ScaledObject {name}: scaleTargetRef {target} names no object in these files")
    lo, hi = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
    if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi): problems.append(f"ScaledObject {name}: replica counts")
    triggers = spec.get("triggers") or []
    if not triggers: problems.append(f"ScaledObject {name}: no triggers")
    for t in triggers:
        meta = t.get("metadata", {})
        if t.get("type") != "postgresql": problems.append(f"ScaledObject {name}: trigger type {t.get('type')}")
        if "query" not in meta: problems.append(f"ScaledObject {name}: trigger has no query")
        for key in ("targetQueryValue", "activationTargetQueryValue"):
            if key in meta:
                try: float(meta[key])
                except (TypeError, ValueError): problems.append(f"ScaledObject {name}: {key} is not a number (must be a string holding one)")
                if not isinstance(meta[key], str): problems.append(f"ScaledObject {name}: {key} must be a string")
        ref = (t.get("authenticationRef") or {}).get("name")
        if ref not in auths: problems.append(f"ScaledObject {name}: authenticationRef {ref} names no TriggerAuthentication")
for name, ta in auths.items():
    for s in ta.get("spec", {}).get("secretTargetRef", []):
        if s.get("parameter") not in ("connection", "password", "host", "userName", "port", "dbName", "sslmode"):
            problems.append(f"TriggerAuthentication {name}: unknown parameter {s.get('parameter')}")
        if s.get("name") in secrets and s.get("key") not in secrets[s["name"]].get("stringData", {}):
            problems.append(f"TriggerAuthentication {name}: secret {s['name']} has no key {s.get('key')}")
for p in problems: print("ERROR", p)
print(f"{len(by_kind.get('ScaledObject', {}))} ScaledObject(s), {len(auths)} TriggerAuthentication(s): {'ok' if not problems else 'FAILED'}")
sys.exit(1 if problems else 0)
PY
then
  status=1
fi

echo "==> No private key material in deploy/"
if grep -rlE -- "-----BEGIN [A-Z ]*PRIVATE KEY-----" deploy/; then
  echo "ERROR: the files above contain a PEM private key"
  status=1
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  echo "==> systemd-analyze verify: deploy/systemd/"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/usr/local/bin" "$scratch/bin" "$scratch/etc/systemd/system" "$scratch/usr/lib/systemd"
  printf '#!/bin/sh\nexit 0\n' >"$scratch/usr/local/bin/tuku"
  cp "$scratch/usr/local/bin/tuku" "$scratch/bin/sh"
  chmod 0755 "$scratch/usr/local/bin/tuku" "$scratch/bin/sh"
  # The host's own units, so that dependencies such as network-online.target resolve.
  for dir in /usr/lib/systemd/system /lib/systemd/system; do
    if [ -d "$dir" ]; then cp -r "$dir" "$scratch/usr/lib/systemd/"; break; fi
  done
  cp deploy/systemd/*.service deploy/systemd/*.target "$scratch/etc/systemd/system/"
  units=(tuku-worker@1.service tuku-migrate.service tuku-sandbox.service tuku.target)
  output=$(systemd-analyze verify --root="$scratch" --man=no --generators=no "${units[@]}" 2>&1) || status=1
  if [ -n "$output" ]; then
    echo "$output"
    status=1
  else
    echo "${units[*]}: ok"
  fi
else
  echo "==> systemd-analyze not installed: systemd units NOT verified"
fi

echo "==> tuku-worker@3.service: ExecStart as systemd runs it (metrics port from the instance number)"
stub_dir=$(mktemp -d)
printf '#!/bin/sh\nprintf "%%s " "$@"\n' >"$stub_dir/tuku"
chmod 0755 "$stub_dir/tuku"
exec_start=$(sed -n 's/^ExecStart=//p' deploy/systemd/tuku-worker@.service)
# systemd's expansion for instance 3: the specifiers %i and %d, and "$$" for a literal "$" (the line uses nothing else).
command=${exec_start//%i/3}
command=${command//%d/\/run\/credentials\/tuku-worker@3.service}
command=${command//\$\$/\$}
command=${command//\/usr\/local\/bin\/tuku/$stub_dir/tuku}
expected="worker --database-url-file /run/credentials/tuku-worker@3.service/database-url --shutdown-grace 25 --metrics-host 0.0.0.0 --metrics-port 9403 --concurrency 7 --log-level notice "
actual=$(env -i PATH=/usr/bin:/bin TUKU_WORKER_ARGS="--concurrency 7 --log-level notice" bash -c "$command" 2>&1) || true
rm -rf "$stub_dir"
if [ "$actual" = "$expected" ]; then
  echo "tuku $actual: ok"
else
  echo "ERROR: tuku-worker@3 would run: tuku $actual"
  echo "       expected:               tuku $expected"
  status=1
fi

echo "==> Grafana dashboards parse as JSON: deploy/grafana/"
for dashboard in deploy/grafana/*.json; do
  python3 -m json.tool "$dashboard" >/dev/null || { echo "invalid JSON: $dashboard" >&2; status=1; }
done

if [ "$status" -ne 0 ]; then echo "deploy/validate.sh: FAILED"; else echo "deploy/validate.sh: all deploy files valid"; fi
exit "$status"
