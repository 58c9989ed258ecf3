# The Function App image: the official Functions Python 3.11 image plus the Pango, HarfBuzz
# and fonts WeasyPrint renders invoices with (the stock image has none of them).
FROM mcr.microsoft.com/azure-functions/python:4-python3.11

# fonts-dejavu-core: the invoice stylesheet names DejaVu Sans. libharfbuzz-subset0 lets
# WeasyPrint embed only the glyphs an invoice uses.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        libfontconfig1 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true

# Dependencies before code, so a code change reuses the installed layer.
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt

COPY host.json function_app.py /home/site/wwwroot/
COPY functions /home/site/wwwroot/functions
COPY shared /home/site/wwwroot/shared
