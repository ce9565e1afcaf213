# finding: there is no FROM instruction
RUN echo hello
