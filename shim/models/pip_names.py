"""Which pip distribution provides an import: the plain table, and the guess from the import name.

``import PIL`` needs ``pillow``, ``import sklearn`` needs ``scikit-learn``. The init-failure diagnosis
(`shim.models.diagnosis`) names the package to add to a conda file when the script's import fails; the
deployment rehearsal (`shim.deploy.distributions`) adds what is installed here. Data and string work only:
no ``importlib.metadata``, nothing imported.
"""

from __future__ import annotations

import re

#: Import names whose distribution is not the import name, the first being the one to suggest. A dotted
#: key is a part of a namespace package (``azure``, ``google``, ``azureml``): the longest prefix wins.
#: Sources: each project's installation page or PyPI page, as cited.
TABLE: dict[str, tuple[str, ...]] = {
    # https://scikit-learn.org/stable/install.html: `pip install -U scikit-learn`, `import sklearn`
    "sklearn": ("scikit-learn",),
    # https://pillow.readthedocs.io/en/stable/installation/basic-installation.html: `pip install Pillow`
    "PIL": ("pillow",),
    # https://pypi.org/project/opencv-python/: four wheels, one `cv2`; install only one of them
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"),
    # https://pypi.org/project/PyYAML/
    "yaml": ("pyyaml",),
    # https://scikit-image.org/docs/stable/user_guide/install.html
    "skimage": ("scikit-image",),
    # https://www.crummy.com/software/BeautifulSoup/bs4/doc/#installing-beautiful-soup
    "bs4": ("beautifulsoup4",),
    # https://pypi.org/project/python-dateutil/
    "dateutil": ("python-dateutil",),
    # https://pypi.org/project/protobuf/
    "google.protobuf": ("protobuf",),
    # https://www.attrs.org/en/stable/overview.html: the attrs distribution ships both `attr` and `attrs`
    "attr": ("attrs",),
    "attrs": ("attrs",),
    # https://pyjwt.readthedocs.io/en/stable/installation.html
    "jwt": ("pyjwt",),
    # https://pypi.org/project/python-dotenv/
    "dotenv": ("python-dotenv",),
    # https://www.pycryptodome.org/src/installation: pycryptodome is `Crypto`, pycryptodomex `Cryptodome`
    "Crypto": ("pycryptodome",),
    "Cryptodome": ("pycryptodomex",),
    # https://python-docx.readthedocs.io/en/latest/user/install.html
    "docx": ("python-docx",),
    # https://pypi.org/project/python-pptx/
    "pptx": ("python-pptx",),
    # https://pymupdf.readthedocs.io/en/latest/installation.html: `pip install pymupdf`, `import fitz` (legacy name)
    "fitz": ("pymupdf",),
    # https://onnxruntime.ai/docs/install/: the CPU and the GPU packages are both `onnxruntime`
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
    # https://www.tensorflow.org/install/pip; tensorflow-cpu and tensorflow-intel are other builds of it
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-intel"),
    # https://pypi.org/project/keras/; tensorflow 2.x declares keras in its Requires-Dist
    "keras": ("keras", "tensorflow"),
    # https://pypi.org/project/tf-keras/
    "tf_keras": ("tf-keras",),
    # https://pytorch.org/get-started/locally/
    "torch": ("torch",),
    # https://lightning.ai/docs/pytorch/stable/starter/installation.html: `lightning` ships pytorch_lightning too
    "pytorch_lightning": ("pytorch-lightning", "lightning"),
    # https://setuptools.pypa.io/en/latest/pkg_resources.html
    "pkg_resources": ("setuptools",),
    # azureml-inference-server-http maps `azureml.contrib.services.aml_request` / `aml_response` onto its
    # own modules (server/__init__.py, _patch_azureml_contrib_services); azureml-defaults 1.53.0 and
    # 1.62.0 both list azureml-inference-server-http and azureml-core in Requires-Dist (their wheels' METADATA).
    "azureml.contrib.services": ("azureml-inference-server-http", "azureml-defaults"),
    "azureml_inference_server_http": ("azureml-inference-server-http", "azureml-defaults"),
    "azureml.core": ("azureml-core", "azureml-defaults"),
    # The old images' server (/var/azureml-server) imports azureml.api, which only azureml-defaults brings.
    "azureml.api": ("azureml-defaults",),
    # https://pypi.org/project/ruamel.yaml/: `pip install ruamel.yaml`, `import ruamel.yaml` (ruamel is its namespace)
    "ruamel": ("ruamel.yaml",),
    # https://pypi.org/project/inference-schema/
    "inference_schema": ("inference-schema",),
    # https://mlflow.org/docs/latest/: mlflow-skinny is the same `mlflow` without the UI and server
    "mlflow": ("mlflow", "mlflow-skinny"),
    # https://learn.microsoft.com/python/api/overview/azure/: one distribution per namespace part
    "azure.storage.blob": ("azure-storage-blob",),
    "azure.storage.filedatalake": ("azure-storage-file-datalake",),
    "azure.storage.fileshare": ("azure-storage-file-share",),
    "azure.identity": ("azure-identity",),
    "azure.core": ("azure-core",),
    "azure.ai.ml": ("azure-ai-ml",),
    "azure.keyvault.secrets": ("azure-keyvault-secrets",),
    "azure.cosmos": ("azure-cosmos",),
    # https://pypi.org/project/google-cloud-storage/
    "google.cloud.storage": ("google-cloud-storage",),
    # https://sbert.net/docs/installation.html
    "sentence_transformers": ("sentence-transformers",),
    # https://huggingface.co/docs/huggingface_hub/installation
    "huggingface_hub": ("huggingface-hub",),
    # https://imbalanced-learn.org/stable/install.html
    "imblearn": ("imbalanced-learn",),
    # https://umap-learn.readthedocs.io/en/latest/: `pip install umap-learn`
    "umap": ("umap-learn",),
    # https://github.com/facebookresearch/faiss/wiki/Installing-Faiss (PyPI builds: faiss-cpu, faiss-gpu)
    "faiss": ("faiss-cpu", "faiss-gpu"),
    # https://www.psycopg.org/docs/install.html
    "psycopg2": ("psycopg2", "psycopg2-binary"),
    # https://pypi.org/project/mysqlclient/
    "MySQLdb": ("mysqlclient",),
    # https://pypi.org/project/pyzmq/, https://pypi.org/project/GitPython/, https://pypi.org/project/dnspython/
    "zmq": ("pyzmq",),
    "git": ("gitpython",),
    "dns": ("dnspython",),
    # https://pypi.org/project/pyOpenSSL/, https://pypi.org/project/websocket-client/
    "OpenSSL": ("pyopenssl",),
    "websocket": ("websocket-client",),
    # Same names as their imports, listed so that the common model libraries are read here, not guessed.
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost",),
    "catboost": ("catboost",),
    "transformers": ("transformers",),
}

_SEPARATORS = re.compile(r"[-_.]+")


def normalise(name: str) -> str:
    """The PEP 503 form of a distribution name: lower case, each run of ``-``, ``_``, ``.`` one ``-``."""
    return _SEPARATORS.sub("-", name).lower()


def from_table(module: str) -> tuple[str, ...]:
    """The table's distributions for a dotted module (the longest listed prefix wins); empty when not listed."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        names = TABLE.get(".".join(parts[:depth]))
        if names is not None:
            return names
    return ()


def pip_name(module: str) -> str:
    """The pip name to suggest for a dotted module: the table's first, else the import name as a guess."""
    listed = from_table(module)
    return listed[0] if listed else guess(module)


def guess(module: str) -> str:
    """The import name as a distribution name: ``azure.foo.bar`` → ``azure-foo``, ``lightgbm`` itself.

    Namespace packages name their distributions after their path (``azure-storage-blob``,
    ``google-cloud-storage``), two or three parts deep.
    """
    parts = module.split(".")
    if parts[0] in {"azure", "google", "azureml"} and len(parts) > 1:
        grouped = {"mgmt", "storage", "ai", "keyvault", "monitor", "data", "cloud", "search", "communication"}
        depth = 3 if parts[1] in grouped and len(parts) > 2 else 2
        return normalise("-".join(parts[:depth]))
    return normalise(parts[0])
