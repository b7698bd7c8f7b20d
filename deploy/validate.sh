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
expected="worker --database-url-file /run/credentials/tuku-worker@3.service/database-url --shutdown-grace 25 --metrics-host 127.0.0.1 --metrics-port 9403 --concurrency 7 --log-level notice "
actual=$(env -i PATH=/usr/bin:/bin TUKU_WORKER_ARGS="--concurrency 7 --log-level notice" bash -c "$command" 2>&1) || true
rm -rf "$stub_dir"
if [ "$actual" = "$expected" ]; then
  echo "tuku $actual: ok"
else
  echo "ERROR: tuku-worker@3 would run: tuku $actual"
  echo "       expected:               tuku $expected"
  status=1
fi

echo "==> Separate credentials per deploy unit (docs/operations.md, \"Security model\")"
# The schema owner's URL reaches tuku-migrate only. Each systemd unit reads its own environment file; the
# worker's holds no database URL (its tuku_worker login comes from a credential) and names no owner role; the
# Kubernetes worker reads the tuku-worker-database Secret, never the migrating role's tuku-database.
separation=0
env_files() { sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$1"; }
worker_env=$(env_files deploy/systemd/tuku-worker@.service)
migrate_env=$(env_files deploy/systemd/tuku-migrate.service)
sandbox_env=$(env_files deploy/systemd/tuku-sandbox.service)
for pair in "worker:$worker_env" "migrate:$migrate_env" "sandbox:$sandbox_env"; do
  [ -n "${pair#*:}" ] || { echo "ERROR: the ${pair%%:*} unit reads no environment file of its own"; separation=1; }
done
for a in "$worker_env" "$migrate_env" "$sandbox_env"; do
  count=0
  for b in $worker_env $migrate_env $sandbox_env; do [ "$a" = "$b" ] && count=$((count + 1)); done
  [ "$count" -le 1 ] || { echo "ERROR: $a is read by more than one unit"; separation=1; }
done
for file in $worker_env $sandbox_env; do
  local_copy="deploy/systemd/$(basename "$file")"
  if [ ! -f "$local_copy" ]; then echo "ERROR: $file has no example $local_copy"; separation=1; continue; fi
  if grep -qE '^[[:space:]]*TUKU_DATABASE_URL(_FILE)?=' "$local_copy"; then
    echo "ERROR: $local_copy sets a database URL (the worker's login comes from its credential; the sandbox needs none)"
    separation=1
  fi
done
if grep -qE 'postgres(ql)?://tuku[:@]' deploy/systemd/tuku-worker@.service deploy/systemd/tuku-worker.env deploy/systemd/tuku-sandbox.service deploy/systemd/sandbox.env; then
  echo "ERROR: a worker or sandbox file names the schema owner role (tuku)"
  separation=1
fi
if ! grep -q '^LoadCredential=database-url:/etc/tuku/credentials/worker-database-url$' deploy/systemd/tuku-worker@.service; then
  echo "ERROR: tuku-worker@.service does not load its own database URL (worker-database-url)"
  separation=1
fi
if grep -q 'tuku-database$' deploy/kubernetes/worker-deployment.yaml || ! grep -q 'name: tuku-worker-database' deploy/kubernetes/worker-deployment.yaml; then
  echo "ERROR: the Kubernetes worker must read tuku-worker-database, never tuku-database (the migrating role)"
  separation=1
fi
if grep -q 'tuku-worker-database' deploy/kubernetes/migrate-job.yaml; then
  echo "ERROR: the migrate Job reads the workers' Secret"
  separation=1
fi
if [ "$separation" -eq 0 ]; then echo "systemd: worker $worker_env, migrate $migrate_env, sandbox $sandbox_env; Kubernetes: worker and migrate Secrets apart: ok"; else status=1; fi

echo "==> Grafana dashboards parse as JSON: deploy/grafana/"
for dashboard in deploy/grafana/*.json; do
  python3 -m json.tool "$dashboard" >/dev/null || { echo "invalid JSON: $dashboard" >&2; status=1; }
done

if [ "$status" -ne 0 ]; then echo "deploy/validate.sh: FAILED"; else echo "deploy/validate.sh: all deploy files valid"; fi
exit "$status"
