# What the guests of many clones say, in one call: state, heartbeat, the name and domain the guest
# reports (intrinsic KVP item FullyQualifiedDomainName) and the guest agent's items VDI.Ready,
# VDI.LoggedOnUser, VDI.Error. Unknown ids are left out.
# vdi-include: _KvpRead.ps1
$wanted = @{}
foreach ($id in @($VdiParams.vm_ids)) { $wanted[([string]([guid][string]$id))] = $true }
$kvp = Get-VdiKvpComponents
@(Get-VM | Where-Object { $wanted.ContainsKey([string]$_.VMId) } | ForEach-Object {
    $vm = $_
    $running = [string]$vm.State -eq 'Running'
    $hb = @(Get-VMIntegrationService -VM $vm | Where-Object { "$($_.Id)" -like '*84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47' })[0]
    $component = $kvp[[string]$vm.VMId]
    $guest = $(if ($running -and $component) { ConvertFrom-VdiKvpXml $component.GuestExchangeItems } else { @{} })
    $intrinsic = $(if ($running -and $component) { ConvertFrom-VdiKvpXml $component.GuestIntrinsicExchangeItems } else { @{} })
    $fqdn = [string]$intrinsic['FullyQualifiedDomainName']
    [pscustomobject]@{ vm_id = [string]$vm.VMId; state = [string]$vm.State
        heartbeat = $(if ($running -and $hb -and $hb.Enabled) { [string]$hb.PrimaryStatusDescription } else { '' })
        computer_name = $fqdn.Split('.')[0]; domain = $(if ($fqdn.Contains('.')) { $fqdn.Substring($fqdn.IndexOf('.') + 1) } else { '' })
        ready = [string]$guest['VDI.Ready'] -eq '1'; logged_on_user = [string]$guest['VDI.LoggedOnUser']
        error = [string]$guest['VDI.Error'] }
})
