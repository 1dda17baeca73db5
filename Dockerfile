# An image with pmo-jira installed, built from a clone of this repository:
#   docker build -t registry.example.com/pmo-jira:0.1.0 .
#   docker run --rm registry.example.com/pmo-jira:0.1.0 --version
# The wheel is built in a first stage so the final image holds no source tree or build tools.
FROM python:3.12-slim AS build
COPY . /src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels /src

FROM python:3.12-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels && useradd --uid 10001 --create-home pmo
USER 10001
WORKDIR /home/pmo
ENTRYPOINT ["pmo-jira"]
