# Shared: the CONTRACT.md checkpoint object, and one checkpoint of a VM by id (ObjectNotFound if absent).
function ConvertTo-VdiCheckpoint($Snapshot) {
    [pscustomobject]@{ id = [string]$Snapshot.Id; name = [string]$Snapshot.Name; vm_id = [string]$Snapshot.VMId
        created = $Snapshot.CreationTime.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') }
}
function Get-VdiCheckpoint($VM, [string]$CheckpointId) {
    $found = @(Get-VMSnapshot -VM $VM | Where-Object { [string]$_.Id -eq $CheckpointId })
    if (-not $found) {
        throw (New-VdiError "Hyper-V was unable to find a checkpoint with ID `"$CheckpointId`" on virtual machine '$($VM.Name)'." 'VdiCheckpointNotFound' 'ObjectNotFound' $CheckpointId)
    }
    $found[0]
}
