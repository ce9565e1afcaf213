# Counts scores strictly above the threshold (>), so a score equal to it is missed.
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
    try:
        scores = pd.read_csv(args.input)["score"]
    except FileNotFoundError:
        logger.error("input file %s does not exist", args.input)
        return 1
    except KeyError:
        logger.error("input file %s has no 'score' column", args.input)
        return 1
    logger.info("scored %d rows", len(scores))
    print(json.dumps({"rows": len(scores), "above": int((scores > args.threshold).sum()),
                      "threshold": args.threshold}))
    return 0
