"""linkis-magic: Apache Linkis from Jupyter."""
