"""Stand-in for musubi-tuner's src/musubi_tuner/caption_images_by_qwen_vl.py (no torch, no model).

Same argparse options and the same output as the real script (v0.3.4): images globbed from
--image_dir (non-recursive, musubi's extensions, sorted), JSONL lines
{"image_path": os.path.join(image_dir, name), "caption": ...} flushed per image, or with
--output_format text a `.txt` beside each image; logging and a tqdm bar on stderr. The caption
names the file and its pixel size so tests can tell the images apart. Test knobs (environment):
STANDIN_FAIL_AFTER=N raises after N images; STANDIN_DELAY=seconds per image; STANDIN_ARGV=file
records sys.argv.
"""

import argparse
import glob
import json
import os
import sys
import time

from PIL import Image

IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp", ".bmp", ".PNG", ".JPG", ".JPEG", ".WEBP", ".BMP"]
DEFAULT_PROMPT = "# Image Annotator\nYou are a professional image annotator."


def parse_args():
    parser = argparse.ArgumentParser(description="Generate captions for images using Qwen2.5-VL")
    parser.add_argument("--image_dir", type=str, required=True)
    parser.add_argument("--model_path", type=str, required=True)
    parser.add_argument("--output_file", type=str, required=False)
    parser.add_argument("--max_new_tokens", type=int, default=1024)
    parser.add_argument("--prompt", type=str, default=DEFAULT_PROMPT)
    parser.add_argument("--max_size", type=int, default=1280)
    parser.add_argument("--fp8_vl", action="store_true")
    parser.add_argument("--output_format", type=str, choices=["jsonl", "text"], default="jsonl")
    return parser.parse_args()


def main():
    args = parse_args()
    if os.environ.get("STANDIN_ARGV"):
        with open(os.environ["STANDIN_ARGV"], "w", encoding="utf-8") as f:
            json.dump(sys.argv, f)
    if args.output_format == "jsonl" and not args.output_file:
        raise ValueError("--output_file is required when --output_format is 'jsonl'")
    prompt = args.prompt.replace("\\n", "\n")
    files = []
    for ext in IMAGE_EXTENSIONS:
        files.extend(glob.glob(os.path.join(glob.escape(args.image_dir), "*" + ext)))
    files = sorted(set(files))
    print(f"INFO:__main__:Found {len(files)} image files", file=sys.stderr, flush=True)
    fail_after = int(os.environ.get("STANDIN_FAIL_AFTER", "-1"))
    delay = float(os.environ.get("STANDIN_DELAY", "0"))
    out = open(args.output_file, "w", encoding="utf-8") if args.output_format == "jsonl" else None
    for n, path in enumerate(files):
        if n == fail_after:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        time.sleep(delay)
        with Image.open(path) as img:
            caption = f"{os.path.basename(path)} {img.width}x{img.height} fp8={args.fp8_vl} {prompt[:30]}"
        if out:
            out.write(json.dumps({"image_path": path, "caption": caption}, ensure_ascii=False) + "\n")
            out.flush()
        else:
            with open(os.path.splitext(path)[0] + ".txt", "w", encoding="utf-8") as f:
                f.write(caption)
        print(f"\rGenerating captions: {n + 1}/{len(files)}", end="", file=sys.stderr, flush=True)
    print("", file=sys.stderr)


if __name__ == "__main__":
    main()
