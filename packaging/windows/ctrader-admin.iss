; Inno Setup 6 script: dist\ctrader-admin-<version>-setup.exe from the PyInstaller bundle.
;
; RECIPE, NOT TESTED HERE: Inno Setup runs on Windows only and this project's machines and CI are
; Linux. packaging/windows/build-windows.ps1 builds the bundle and calls this script; the
; workflow packaging/ci/github-release.yml runs that on a Windows runner.
;
;   iscc /DAppVersion=0.1.0 packaging\windows\ctrader-admin.iss
;   iscc /DAppVersion=0.1.0 "/Ssigntool=signtool.exe sign /fd sha256 /tr http://timestamp.digicert.com /td sha256 /sha1 <thumbprint> $f" /DSign packaging\windows\ctrader-admin.iss
;
; What goes where:
;   program   {autopf}\ctrader-admin  (per-user install: %LOCALAPPDATA%\Programs\ctrader-admin;
;             "install for all users": C:\Program Files\ctrader-admin)
;   settings, directory, journal, logs: %LOCALAPPDATA%\ctrader-admin (written by the app; left in
;             place on uninstall: the journal is the operators' audit record)
;   token     Windows Credential Manager (keyring), never a file

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\ctrader-admin"
#endif

[Setup]
; Never change AppId: Windows recognises upgrades and the uninstaller by it.
AppId={{6F3B2C1A-9D4E-4B7F-8A21-5C0E7D9B3A64}
AppName=ctrader-admin
AppVersion={#AppVersion}
AppVerName=ctrader-admin {#AppVersion}
AppPublisher=ctrader-admin
VersionInfoVersion={#AppVersion}
VersionInfoProductName=ctrader-admin
VersionInfoDescription=ctrader-admin installer
DefaultDirName={autopf}\ctrader-admin
DefaultGroupName=ctrader-admin
DisableProgramGroupPage=yes
; Per-user by default (no admin rights needed on a managed workstation); admins may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=ctrader-admin-{#AppVersion}-setup
SetupIconFile=ctrader-admin.ico
UninstallDisplayIcon={app}\ctrader-admin.exe
UninstallDisplayName=ctrader-admin {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
#ifdef Sign
SignTool=signtool
SignedUninstaller=yes
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle: ctrader-admin.exe (windowed), ctrader-admin-cli.exe (console, for
; `ctrader-admin-cli sandbox` and `--smoke-test`) and _internal\.
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle whole: no stale library from the previous version may survive.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\ctrader-admin"; Filename: "{app}\ctrader-admin.exe"; Comment: "Back-office console for cTrader brokers"
Name: "{autodesktop}\ctrader-admin"; Filename: "{app}\ctrader-admin.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\ctrader-admin.exe"; Description: "{cm:LaunchProgram,ctrader-admin}"; Flags: nowait postinstall skipifsilent
