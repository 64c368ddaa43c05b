"""Re-vendor the GraphiQL assets that the installed Strawberry's page loads from unpkg."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent.parent / "schema" / "static" / "graphiql" / "vendor"
# unpkg serves https://unpkg.com/<name>@<version>/<path inside the npm tarball's package/>.
UNPKG_URL = re.compile(r"https://unpkg\.com/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.+)")
# An exact version: a range or a dist-tag would make the pinned integrity meaningless.
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
LICENSE_NAME = re.compile(r"(?:LICEN[CS]E|COPYING)(?:\.(?:md|txt))?", re.IGNORECASE)


class VendorError(Exception):
    """The template, the registry or a tarball is not what this script can vouch for."""


@dataclass(frozen=True)
class Asset:
    kind: str  # "script" or "style": how the page loads it
    package: str
    version: str
    path: str
    integrity: str
    url: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


class _TemplateAssets(HTMLParser):
    """Collects the external scripts and stylesheets of Strawberry's page, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[Asset] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self._add("script", attributes["src"], attributes.get("integrity"))
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self._add("style", attributes.get("href"), attributes.get("integrity"))

    def _add(self, kind: str, url: str | None, integrity: str | None) -> None:
        match = UNPKG_URL.fullmatch(url or "")
        if match is None:
            raise VendorError(f"not an unpkg URL this script knows how to fetch: {url!r}")
        package, package_version, path = match.groups()
        if ".." in path.split("/"):
            raise VendorError(f"{url}: the path leaves the package")
        if not EXACT_VERSION.fullmatch(package_version):
            raise VendorError(f"{url}: version {package_version!r} is not exact")
        if not integrity or not integrity.startswith("sha384-"):
            raise VendorError(f"{url}: no sha384 integrity in the template")
        self.assets.append(Asset(kind, package, package_version, path, integrity, match[0]))


def template_assets() -> tuple[str, list[Asset]]:
    template = files("strawberry") / "static" / "graphiql.html"
    parser = _TemplateAssets()
    parser.feed(template.read_text(encoding="utf-8"))
    if not parser.assets:
        raise VendorError(f"no assets found in {template}")
    source = f"strawberry-graphql {version('strawberry-graphql')}, strawberry/static/graphiql.html"
    return source, parser.assets


def npm_pack(spec: str, destination: Path) -> Path:
    """Download a package's tarball from the npm registry (npm checks the registry's integrity)."""
    if shutil.which("npm") is None:
        raise VendorError("npm is not on PATH: install Node.js and npm")
    result = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(destination)],
        check=True,
        capture_output=True,
        text=True,
    )
    (packed,) = json.loads(result.stdout)
    filename: str = packed["filename"]
    return destination / filename


def read_member(tarball: tarfile.TarFile, name: str) -> bytes | None:
    try:
        member = tarball.getmember(f"package/{name}")
    except KeyError:
        return None
    extracted = tarball.extractfile(member)
    return None if extracted is None else extracted.read()


def sri_sha384(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode("ascii")


def normalized_repository(package_json: dict[str, object]) -> str:
    repository = package_json.get("repository")
    url = repository.get("url") if isinstance(repository, dict) else repository
    if not isinstance(url, str):
        return ""
    return re.sub(r"^(?:git\+)?(?:https?|git|ssh)://(?:git@)?|\.git$", "", url).rstrip("/")


@dataclass
class Package:
    spec: str
    package_json: dict[str, object]
    license_name: str | None
    license_text: bytes | None


def vendor(output: Path) -> None:
    source, assets = template_assets()
    print(f"template: {source}")
    manifest_assets: list[dict[str, str]] = []
    packages: dict[str, Package] = {}
    with tempfile.TemporaryDirectory() as downloads:
        for spec in dict.fromkeys(asset.spec for asset in assets):
            print(f"npm pack {spec}")
            with tarfile.open(npm_pack(spec, Path(downloads))) as tarball:
                package_json = json.loads(read_member(tarball, "package.json") or b"{}")
                license_name = next(
                    (
                        name.removeprefix("package/")
                        for name in tarball.getnames()
                        if name.count("/") == 1 and LICENSE_NAME.fullmatch(name.split("/")[1])
                    ),
                    None,
                )
                license_text = None if license_name is None else read_member(tarball, license_name)
                packages[spec] = Package(spec, package_json, license_name, license_text)
                for asset in (asset for asset in assets if asset.spec == spec):
                    content = read_member(tarball, asset.path)
                    if content is None:
                        raise VendorError(f"{asset.url}: {asset.path} is not in {spec}'s tarball")
                    actual = sri_sha384(content)
                    if actual != asset.integrity:
                        raise VendorError(
                            f"{asset.url}: integrity mismatch: template {asset.integrity}, "
                            f"npm tarball {actual}"
                        )
                    print(f"  {asset.path}: {actual} matches the template")
                    file = f"{spec}/{asset.path}"
                    (output / file).parent.mkdir(parents=True, exist_ok=True)
                    (output / file).write_bytes(content)
                    manifest_assets.append(
                        {
                            "kind": asset.kind,
                            "package": asset.package,
                            "version": asset.version,
                            "file": file,
                            "integrity": asset.integrity,
                            "upstream": asset.url,
                        }
                    )
    manifest = {
        "source": source,
        "generated_by": "scripts/vendor_graphiql.py",
        "assets": manifest_assets,
        "licenses": [license_entry(package, packages, output) for package in packages.values()],
    }
    (output / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def license_entry(package: Package, packages: dict[str, Package], output: Path) -> dict[str, str]:
    """Write a package's license beside its files; a package that ships none (some packages of
    a monorepo do) takes the one of a vendored package from the same repository and license."""
    if package.license_name is not None and package.license_text is not None:
        source, text = f"{package.spec}/{package.license_name}", package.license_text
    else:
        repository = normalized_repository(package.package_json)
        donor = next(
            (
                other
                for other in packages.values()
                if other.license_text is not None
                and repository
                and normalized_repository(other.package_json) == repository
                and other.package_json.get("license") == package.package_json.get("license")
            ),
            None,
        )
        if donor is None or donor.license_text is None:
            raise VendorError(f"{package.spec} ships no LICENSE and no sibling package provides it")
        source = (
            f"{donor.spec}/{donor.license_name}: {package.spec} ships no license file; "
            f"same repository ({repository}) and license ({package.package_json.get('license')})"
        )
        text = donor.license_text
    file = f"{package.spec}/LICENSE"
    (output / file).write_bytes(text)
    print(f"  license {file} <- {source}")
    return {
        "package": package.spec,
        "license": str(package.package_json.get("license")),
        "file": file,
        "source": source,
    }


def main() -> int:
    # Build beside the target and swap at the end, so a failure leaves the old vendor dir intact
    # and files of versions no longer referenced do not linger.
    staging = VENDOR_DIR.with_name(VENDOR_DIR.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        vendor(staging)
        shutil.rmtree(VENDOR_DIR, ignore_errors=True)
        staging.rename(VENDOR_DIR)
    except (VendorError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", None) or ""
        print(f"error: {error}\n{detail}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"vendored into {VENDOR_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
