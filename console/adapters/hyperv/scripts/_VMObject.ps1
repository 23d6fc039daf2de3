# Shared by the scripts that return VMs (included by the adapter, see CONTRACT.md).
function ConvertTo-VdiVM($VM) {
    $disks = @(Get-VMHardDiskDrive -VM $VM | Where-Object { $_.Path } | ForEach-Object {
        $d = [ordered]@{ path = [string]$_.Path; size_bytes = [int64]0; file_bytes = [int64]0; parent_path = '' }
        # Pass-through disks have no VHD file: they keep sizes of 0.
        try {
            $vhd = Get-VHD -Path $_.Path
            $d.size_bytes = [int64]$vhd.Size; $d.file_bytes = [int64]$vhd.FileSize; $d.parent_path = [string]$vhd.ParentPath
        } catch { }
        [pscustomobject]$d
    })
    $nic = @(Get-VMNetworkAdapter -VM $VM) | Select-Object -First 1
    # The Heartbeat service by its component GUID: service names are localized.
    $hb = @(Get-VMIntegrationService -VM $VM | Where-Object { "$($_.Id)" -like '*84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47' })[0]
    [pscustomobject]@{
        id = [string]$VM.VMId; name = [string]$VM.Name; state = [string]$VM.State
        cpu_count = [int]$VM.ProcessorCount
        memory_bytes = [int64]$(if ($VM.MemoryAssigned) { $VM.MemoryAssigned } else { $VM.MemoryStartup })
        uptime_seconds = [int64]$VM.Uptime.TotalSeconds; generation = [int]$VM.Generation
        version = [string]$VM.Version; path = [string]$VM.Path
        'switch' = $(if ($nic) { [string]$nic.SwitchName } else { '' })
        guest_agent = [bool]($hb -and $hb.Enabled -and "$($hb.PrimaryOperationalStatus)" -eq 'Ok')
        notes = [string]$VM.Notes; disks = $disks
    }
}
