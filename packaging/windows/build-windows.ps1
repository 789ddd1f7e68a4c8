# Windows installer recipe: PyInstaller bundle -> smoke test -> (signing) -> Inno Setup installer
# -> silent install -> smoke test of the installed copy.
#
# RECIPE, NOT TESTED HERE: it needs Windows (PyInstaller builds for the OS it runs on; Inno
# Setup and signtool are Windows programs). packaging/ci/github-release.yml runs it on a
# windows-2022 runner. Run it from a "Developer PowerShell" (signtool on PATH) with Python 3.11:
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build-windows.ps1 [-Sign]
#
# -Sign: Authenticode-sign both executables, the installer and its uninstaller with the
#   certificate whose SHA-1 thumbprint is in $env:WINDOWS_CERT_SHA1 (imported into the user's
#   certificate store beforehand), timestamped by $env:TIMESTAMP_URL.
param([switch]$Sign)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$root = (Get-Location).Path
$venv = "build\venv-package"
$timestamp = if ($env:TIMESTAMP_URL) { $env:TIMESTAMP_URL } else { "http://timestamp.digicert.com" }

function Check($what) { if ($LASTEXITCODE -ne 0) { throw "$what failed ($LASTEXITCODE)" } }

# 1. A build venv with a NORMAL install (PyInstaller cannot see an editable one).
if (-not (Test-Path "$venv\Scripts\python.exe")) { py -3.11 -m venv $venv; Check "venv" }
& "$venv\Scripts\python.exe" -m pip install --upgrade pip; Check "pip upgrade"
Remove-Item -Recurse -Force build\lib -ErrorAction SilentlyContinue
& "$venv\Scripts\python.exe" -m pip install ".[package]"; Check "pip install"

# 2. The bundle: dist\ctrader-admin\ctrader-admin.exe (windowed) + ctrader-admin-cli.exe.
$started = Get-Date
Push-Location build
& "$root\$venv\Scripts\pyinstaller.exe" --noconfirm --clean --distpath "$root\dist" `
  --workpath "$root\build\pyinstaller" "$root\packaging\pyinstaller\ctrader-admin.spec"
Check "PyInstaller"
Pop-Location
Write-Host ("PyInstaller: {0:N0} s" -f ((Get-Date) - $started).TotalSeconds)

# 3. Smoke test of the bundle (the console twin prints the result line).
$env:QT_QPA_PLATFORM = "offscreen"
& dist\ctrader-admin\ctrader-admin-cli.exe --smoke-test; Check "bundle smoke test"
$version = ((& dist\ctrader-admin\ctrader-admin-cli.exe --version) -split " ")[1]
Remove-Item Env:QT_QPA_PLATFORM

# 4. Signing the executables before they go into the installer.
function SignFiles([string[]]$files) {
  & signtool sign /fd sha256 /tr $timestamp /td sha256 /sha1 $env:WINDOWS_CERT_SHA1 @files
  Check "signtool sign"
  & signtool verify /pa /v @files; Check "signtool verify"
}
if ($Sign) { SignFiles @("dist\ctrader-admin\ctrader-admin.exe", "dist\ctrader-admin\ctrader-admin-cli.exe") }

# 5. The installer: dist\ctrader-admin-<version>-setup.exe (Inno Setup 6: iscc on PATH or in
#    its default folder).
$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
$issArgs = @("/DAppVersion=$version")
if ($Sign) {
  $issArgs += "/DSign"
  $issArgs += "/Ssigntool=signtool.exe sign /fd sha256 /tr $timestamp /td sha256 /sha1 $env:WINDOWS_CERT_SHA1 `$f"
}
& $iscc @issArgs packaging\windows\ctrader-admin.iss; Check "Inno Setup"
$setup = "dist\ctrader-admin-$version-setup.exe"
if ($Sign) { & signtool verify /pa /v $setup; Check "signtool verify (installer)" }

# 6. Install it silently for this user into a scratch folder and smoke-test the installed copy.
$target = Join-Path $env:TEMP "ctrader-admin-install-test"
Start-Process -Wait -FilePath $setup -ArgumentList @("/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART", "/CURRENTUSER", "/DIR=`"$target`"")
$env:QT_QPA_PLATFORM = "offscreen"
& "$target\ctrader-admin-cli.exe" --smoke-test; Check "installed smoke test"
Start-Process -Wait -FilePath "$target\unins000.exe" -ArgumentList @("/VERYSILENT", "/SUPPRESSMSGBOXES")
Write-Host ("installer: {0} ({1:N1} MB)" -f $setup, ((Get-Item $setup).Length / 1MB))
