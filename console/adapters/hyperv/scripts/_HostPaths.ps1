# Shared: this host's FQDN, and a local path as other hosts reach it (D:\x -> \\<fqdn>\D$\x).
function Get-VdiFqdn {
    $computer = Get-CimInstance Win32_ComputerSystem
    if ($computer.PartOfDomain) { [string]$env:COMPUTERNAME + '.' + [string]$computer.Domain } else { [string]$env:COMPUTERNAME }
}
function ConvertTo-VdiUnc([string]$Path, [string]$Fqdn) {
    if ($Path -match '^([A-Za-z]):\\?(.*)$') { '\\' + $Fqdn + '\' + $Matches[1].ToUpper() + '$\' + $Matches[2] } else { $Path }
}
