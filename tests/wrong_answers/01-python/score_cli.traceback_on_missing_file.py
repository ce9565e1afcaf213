# Lets FileNotFoundError escape as a traceback instead of logging an error and returning 1.
import argparse

logger = logging.getLogger("score_cli")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="score")
    parser.add_argument("--input", required=True)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not 0 <= args.threshold <= 1:
        parser.error("--threshold must be between 0 and 1")
    scores = pd.read_csv(args.input)["score"]
    logger.info("scored %d rows", len(scores))
    print(json.dumps({"rows": len(scores), "above": int((scores >= args.threshold).sum()),
                      "threshold": args.threshold}))
    return 0
