# Facts about this Hyper-V host for Test connection and the distribution prerequisites.
$os = Get-CimInstance Win32_OperatingSystem
$computer = Get-CimInstance Win32_ComputerSystem
$vmHost = Get-VMHost
# Get-VMHost has no version of its own: the management service's file version is Hyper-V's.
$hypervVersion = (Get-Item -LiteralPath (Join-Path $env:SystemRoot 'System32\vmms.exe')).VersionInfo.ProductVersion

# Constrained delegation lives in AD; null means "could not be read" (no module, no second hop).
$delegation = $null
if ($computer.PartOfDomain -and (Get-Module -ListAvailable -Name ActiveDirectory)) {
    try {
        Import-Module ActiveDirectory -ErrorAction Stop
        $account = Get-ADComputer -Identity $env:COMPUTERNAME -Properties 'msDS-AllowedToDelegateTo' -ErrorAction Stop
        $delegation = @($account.'msDS-AllowedToDelegateTo' | ForEach-Object { [string]$_ })
    } catch {
        $delegation = $null
    }
}

$switches = @(Get-VMSwitch | ForEach-Object {
    [pscustomobject]@{ name = [string]$_.Name; switch_type = [string]$_.SwitchType }
})
$volumes = @(Get-Volume | Where-Object { $_.DriveLetter } | ForEach-Object {
    [pscustomobject]@{ path = ([string]$_.DriveLetter + ':\'); size_bytes = [int64]$_.Size
                       free_bytes = [int64]$_.SizeRemaining }
})

[pscustomobject]@{
    computer_name      = [string]$env:COMPUTERNAME
    os_caption         = [string]$os.Caption
    os_version         = [string]$os.Version
    hyperv_version     = [string]$hypervVersion
    domain             = [string]$computer.Domain
    part_of_domain     = [bool]$computer.PartOfDomain
    logical_processors = [int]$vmHost.LogicalProcessorCount
    memory_bytes       = [int64]$vmHost.MemoryCapacity
    vm_path            = [string]$vmHost.VirtualMachinePath
    vhd_path           = [string]$vmHost.VirtualHardDiskPath
    live_migration     = [pscustomobject]@{
        enabled                = [bool]$vmHost.VirtualMachineMigrationEnabled
        authentication         = [string]$vmHost.VirtualMachineMigrationAuthenticationType
        max_migrations         = [int]$vmHost.MaximumVirtualMachineMigrations
        constrained_delegation = $delegation
    }
    switches           = $switches
    volumes            = $volumes
}
