#!/usr/bin/env bash
# Sets up what it takes to run the notebooks in the real .NET Interactive kernel, headless, and is safe to run again:
#   1. Debian's Jupyter pieces (jupyter-nbconvert, nbclient, jupyter-client), installed with apt-get when missing;
#   2. the kernel, Microsoft.dotnet-interactive as pinned in .config/dotnet-tools.json (dotnet tool restore);
#   3. the kernel registered in Jupyter as .net-csharp (dotnet interactive jupyter install), when it is not;
#   4. the packages the notebooks load, packed into the local feed out/feed (the README's pack command).
# The notebook tests (tests/AutoDiffLstm.Tests/Notebooks/KernelNotebookTests.cs) call it before executing notebooks;
# by hand: bash .ci/notebook-kernel.sh, then jupyter nbconvert --to notebook --execute notebooks/01-tape-and-backward.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT=1

# Debian's own python3, not whatever python3 comes first on PATH (pyenv, a venv): the apt packages install into it.
have_jupyter() {
  command -v jupyter-nbconvert >/dev/null 2>&1 && command -v jupyter >/dev/null 2>&1 &&
    /usr/bin/python3 -c 'import nbconvert, nbclient, jupyter_client' >/dev/null 2>&1
}
if ! have_jupyter; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "notebook-kernel.sh: jupyter-nbconvert is missing and this is not root; install it with:" >&2
    echo "  sudo apt-get install jupyter-nbconvert python3-nbconvert python3-nbclient jupyter-client" >&2
    exit 1
  fi
  echo "== apt-get install jupyter-nbconvert (Debian) =="
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    jupyter-nbconvert python3-nbconvert python3-nbclient jupyter-client >/dev/null
  have_jupyter || { echo "notebook-kernel.sh: jupyter-nbconvert still not usable after apt-get install" >&2; exit 1; }
fi

echo "== dotnet tool restore (Microsoft.dotnet-interactive) =="
dotnet tool restore >/dev/null

# The kernel spec runs `dotnet interactive jupyter …` in the notebook's folder, where the tool manifest above applies.
if ! jupyter kernelspec list 2>/dev/null | grep -q '^ *\.net-csharp '; then
  echo "== dotnet interactive jupyter install =="
  dotnet interactive jupyter install >/dev/null
fi

echo "== dotnet pack src/AutoDiffLstm.Experiments -c Release -o out/feed =="
dotnet pack src/AutoDiffLstm.Experiments -c Release -o out/feed -nologo -v quiet
echo "notebook kernel ready: $(jupyter kernelspec list 2>/dev/null | grep '\.net-csharp' | tr -s ' ')"
