import EdgeVault
