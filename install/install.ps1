# One-command install of catalog-host on Windows, run from a checkout:
#
#   powershell -ExecutionPolicy Bypass -File install\install.ps1 [install options]
#   e.g.  ... -File install\install.ps1 --comfyui-dir "D:\ComfyUI"
#
# Finds a Python 3.10+ (the py launcher, then python / python3 on PATH), creates the product's
# own virtual environment in %LOCALAPPDATA%\catalog-host\venv (the platformdirs user data
# folder), installs this checkout into it, then hands over to `python -m host install` with
# the arguments given. The browsers start pip's console launcher
# venv\Scripts\catalog-host.exe (an .exe: Chrome's direct launch of hosts breaks .bat files).
# Re-running it upgrades the package and re-points every registration.
#
# With --system (elevated), the venv goes into %ProgramFiles%\catalog-host\venv instead.
#
# Environment: CATALOG_HOST_PYTHON  the python.exe to use
#              CATALOG_HOST_VENV    where to put the venv
# Arguments are passed through untouched ($args), so GNU-style options such as --browser work.

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

function Say([string] $Text) { Write-Host "catalog-host: $Text" }
function Fail([string] $Text) { Write-Host "catalog-host: error: $Text" -ForegroundColor Red; exit 1 }

$repo = Split-Path -Parent $PSScriptRoot
if (-not ((Test-Path (Join-Path $repo 'pyproject.toml')) -and (Test-Path (Join-Path $repo 'host')))) {
    Fail "run this script from a catalog-host checkout (no pyproject.toml next to $PSScriptRoot)"
}

# The absolute path of a Python 3.10+ that has venv, or $null. A command is a list: the py
# launcher needs its -3 argument. The Microsoft Store's python.exe stub prints nothing and fails
# the check, so it is skipped. try/catch: Windows PowerShell 5.1 turns a native command's
# redirected stderr into a terminating error under ErrorActionPreference=Stop.
$probe = 'import sys, venv, ensurepip; print(sys.executable); sys.exit(sys.version_info < (3, 10))'
function Find-Python([string[]] $Command) {
    $exe = $Command[0]
    if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { return $null }
    $rest = @($Command | Select-Object -Skip 1)
    try {
        $out = & $exe @rest -c $probe 2>$null
    } catch {
        return $null
    }
    if ($LASTEXITCODE -ne 0 -or -not $out) { return $null }
    return ([string]($out | Select-Object -Last 1)).Trim()
}

$python = $null
if ($env:CATALOG_HOST_PYTHON) {
    $python = Find-Python @($env:CATALOG_HOST_PYTHON)
    if (-not $python) { Fail "CATALOG_HOST_PYTHON=$env:CATALOG_HOST_PYTHON is not a Python 3.10+ with venv" }
} else {
    foreach ($candidate in @('py -3', 'python', 'python3')) {
        $python = Find-Python ($candidate -split ' ')
        if ($python) { break }
    }
}
if (-not $python) {
    Fail ("no Python 3.10+ found. fix: install one from https://www.python.org/downloads/ " +
          "(tick 'Add python.exe to PATH') or set CATALOG_HOST_PYTHON to its python.exe")
}

# --system: the venv goes into %ProgramFiles%\catalog-host (only administrators write there), as
# a system-wide (HKLM) registration requires.
if ($args -contains '--system') {
    $admin = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
             ).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    if (-not $admin) { Fail '--system needs an elevated PowerShell (Run as administrator)' }
    $data = Join-Path $env:ProgramFiles 'catalog-host'
} else {
    if (-not $env:LOCALAPPDATA) { Fail 'LOCALAPPDATA is not set: cannot tell where the user data folder is' }
    $data = Join-Path $env:LOCALAPPDATA 'catalog-host'
}
$venv = if ($env:CATALOG_HOST_VENV) { $env:CATALOG_HOST_VENV } else { Join-Path $data 'venv' }
$venvPython = Join-Path $venv 'Scripts\python.exe'

$reuse = $false
if (Test-Path $venvPython) {
    try {
        & $venvPython -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>$null
        $reuse = ($LASTEXITCODE -eq 0)
    } catch {
        $reuse = $false  # a broken venv (its base Python was removed): rebuilt below
    }
}
if ($reuse) {
    Say "reusing the virtual environment $venv"
} else {
    Say "creating a virtual environment in $venv with $python"
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $venv) | Out-Null
    & $python -m venv --clear $venv
    if ($LASTEXITCODE -ne 0) { Fail "could not create the virtual environment $venv" }
}
# Marks the venv as ours: `uninstall --remove-venv` deletes only a venv that carries it.
Set-Content -Path (Join-Path $venv '.catalog-host-venv') -Value "created by install\install.ps1 from $repo" -Encoding UTF8

# A regular (not editable) install: the product keeps working if the checkout moves, and
# pip re-installs a local folder even when its version number has not changed.
Say "installing catalog-host from $repo"
& $venvPython -m pip install --quiet --disable-pip-version-check $repo
if ($LASTEXITCODE -ne 0) { Fail "pip could not install $repo into $venv (see the messages above)" }

# -I: import the installed package, not the checkout in the current folder.
& $venvPython -I -m host install @args
exit $LASTEXITCODE
