# Runs on a distribution target: what it has against what the source requires. Changes nothing:
# Compare-VM only reports what an import of the source's configuration would meet here.
$source = $VdiParams.source
$computer = Get-CimInstance Win32_ComputerSystem
$vmHost = Get-VMHost
$folder = [string]$source.folder_path
$delegation = $null
if ($computer.PartOfDomain -and (Get-Module -ListAvailable -Name ActiveDirectory)) {
    try {
        Import-Module ActiveDirectory -ErrorAction Stop
        $account = Get-ADComputer -Identity $env:COMPUTERNAME -Properties 'msDS-AllowedToDelegateTo' -ErrorAction Stop
        $delegation = @($account.'msDS-AllowedToDelegateTo' | ForEach-Object { [string]$_ })
    } catch { $delegation = $null }
}
# The volume of the folder, or of the system drive when the folder's drive does not exist here.
$letter = $(if ($folder -match '^([A-Za-z]):') { $Matches[1] } else { '' })
$volume = $(if ($letter) { Get-Volume -DriveLetter $letter -ErrorAction SilentlyContinue })
if (-not $volume) { $volume = Get-Volume -DriveLetter $env:SystemDrive.Substring(0, 1) }
$compare = [ordered]@{ ran = $false; error = ''; incompatibilities = @() }
try {
    # The configuration names the disks by the source's local paths (D:\...): -VhdSourcePath makes
    # Compare-VM look for them in the source's disk folder through its share instead.
    $compareArgs = @{ Path = [string]$source.config_unc; Copy = $true; GenerateNewId = $true; VirtualMachinePath = $folder }
    if ([string]$source.vhd_folder_unc) { $compareArgs.VhdSourcePath = [string]$source.vhd_folder_unc }
    $report = Compare-VM @compareArgs
    $compare.ran = $true
    $compare.incompatibilities = @($report.Incompatibilities | ForEach-Object {
        [pscustomobject]@{ message_id = [int]$_.MessageId; message = [string]$_.Message; source = [string]$_.Source } })
} catch { $compare.error = [string]$_.Exception.Message }
[pscustomobject]@{
    computer_name = [string]$env:COMPUTERNAME
    fqdn = $(if ($computer.PartOfDomain) { [string]$env:COMPUTERNAME + '.' + [string]$computer.Domain } else { [string]$env:COMPUTERNAME })
    domain = [string]$computer.Domain; part_of_domain = [bool]$computer.PartOfDomain
    folder_exists = [bool]($folder -and (Test-Path -LiteralPath $folder -PathType Container))
    switches = @(Get-VMSwitch | ForEach-Object { [string]$_.Name })
    live_migration = [pscustomobject]@{ enabled = [bool]$vmHost.VirtualMachineMigrationEnabled
        authentication = [string]$vmHost.VirtualMachineMigrationAuthenticationType; constrained_delegation = $delegation }
    free_bytes = [int64]$volume.SizeRemaining
    compare = [pscustomobject]$compare
}
