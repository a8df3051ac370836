"""Built versions of each part: folders (`Artifacts`), where they are stored (`open_storage`: a path or S3) and the
registry in the store of what was built and what serves (`ModelRegistry`)."""

from shopmind.artifacts.folders import Artifacts
from shopmind.artifacts.registry import ModelRegistry, RegistryError, VersionNotFound
from shopmind.artifacts.storage import STORAGES, ArtifactStorage, LocalStorage, StorageError, open_storage

__all__ = ["STORAGES", "ArtifactStorage", "Artifacts", "LocalStorage", "ModelRegistry", "RegistryError", "StorageError", "VersionNotFound",
           "open_storage"]
