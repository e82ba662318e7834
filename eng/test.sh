#!/usr/bin/env bash
# The one test command (README "Quick start"; CI runs exactly this): builds the whole solution in Release, where every
# warning is an error, then runs every test project and prints one closing line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
started=$SECONDS
trap 'echo "eng/test.sh took $((SECONDS - started)) s"' EXIT

# PostgreSQL server binaries: the storage tests start a throwaway cluster from them (127.0.0.1, random port), unless
# ANPM_TEST_POSTGRES names a server. Installed from Debian's packages when missing.
# libsecp256k1 (with its recovery module): the signing tests check the native backend against the managed one.
missing=()
if [ -z "${ANPM_TEST_POSTGRES:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql-15)
fi
if ! ls /usr/lib/*/libsecp256k1.so.1 >/dev/null 2>&1; then
  missing+=(libsecp256k1-1)
fi
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
# Chromium: the web pages' browser tests drive it headless through Playwright (ExecutablePath /usr/bin/chromium).
if [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]} for the tests..."
  # Wait for another apt (unattended upgrades, a second run) to let go of its lock instead of failing at once.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

# ethers 6, the outside implementation the signing tests check Anpm against (versions pinned by the lock file).
(cd tests/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

# The EVM gateway's local chain and compiler: anvil 1.7.1 (its Linux binary comes as an optional dependency and runs
# directly, bound to 127.0.0.1 by the tests), solc-js and OpenZeppelin's contracts, compiled at test time.
(cd tests/evm && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

# The operator's EVM tools (deploy the router, pay through it): the runbook test follows docs/getting-started/evm-gateway.md with them.
(cd tools/evm && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

# onnxruntime-node, an outside implementation the oracle tests check Anpm's ONNX backend against (ONNX Runtime itself
# comes from NuGet), and silero VAD (a model nobody here wrote) from @ricky0123/vad-web; scripts never run, nothing
# committed. No build runs npm for ONNX Runtime: these are test references only.
(cd tests/onnx-node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
  && { [ -f silero_vad_v5.onnx ] || { npm pack @ricky0123/vad-web@0.0.31 --silent >/dev/null \
       && tar -xzf ricky0123-vad-web-0.0.31.tgz --strip-components=2 package/dist/silero_vad_v5.onnx \
       && rm -f ricky0123-vad-web-0.0.31.tgz; }; })

dotnet build Anpm.sln -c Release

# Known vulnerabilities in any package, direct or transitive (NuGet audit, on in Directory.Build.props, fails the restore
# too; this lists them). What it can see depends on the package source serving vulnerability data.
audit=$(dotnet list Anpm.sln package --vulnerable --include-transitive 2>&1)
if grep -q "has the following vulnerable packages" <<<"$audit"; then
  echo "$audit"
  echo "Vulnerable packages: see above."
  exit 1
fi
echo "NuGet audit: no known vulnerable package (direct or transitive)."

log=$(mktemp)
trap 'rm -f "$log"; echo "eng/test.sh took $((SECONDS - started)) s"' EXIT
status=0
# A test that runs for 10 minutes is hung: its assembly is stopped and the test named (no dump), instead of CI waiting.
dotnet test Anpm.sln -c Release --no-build --blame-hang-timeout 10m --blame-hang-dump-type none 2>&1 | tee "$log" || status=$?

# "Passed!  - Failed:     0, Passed:    98, Skipped:     0, ..." per test assembly.
read -r passed failed < <(awk -F'[:,]' '/(Passed|Failed)! +- Failed:/ { f += $2; p += $4 } END { print p + 0, f + 0 }' "$log")
echo "Tests: $passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
