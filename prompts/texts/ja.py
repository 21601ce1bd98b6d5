"""The deterministic template drafter's Japanese texts (sentences join without spaces)."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "下記の安全なページ"

TEXTS = LocaleTexts(
    subjects={
        "first": "{company}へのお支払いが完了しませんでした",
        "follow_up": "【リマインダー】{company}へのお支払いがまだ完了していません",
        "final": "【最終のお知らせ】{company}の請求書が未払いのままです",
    },
    openings={
        "first": "ご利用中のサブスクリプションの最新のお支払いを試みましたが、完了しませんでした。",
        "follow_up": "お支払いを再度試みましたが、残念ながら今回も完了しませんでした。",
        "final": (
            "未払いの請求書について最後のご連絡となりますが、"
            "サービスが停止されることは私たちも望んでおりません。"
        ),
    },
    reasons={
        "insufficient_funds": (
            f"今回は銀行によって決済が承認されませんでしたので、ご都合のよいときに{_PAGE}から"
            "お支払いいただくか、別のお支払い方法をお選びください。"
        ),
        "expired_card": (
            f"登録されているカードの有効期限が切れているようですので、{_PAGE}で新しいお支払い方法を"
            "追加できます。"
        ),
        "authentication_required": (
            f"銀行からお支払いの確認を求められていますので、{_PAGE}ですぐに確認できます。"
        ),
        "incorrect_details": (
            f"登録されているお支払い情報の一部が銀行の記録と一致しませんでしたので、{_PAGE}で"
            "お支払い方法をご確認ください。"
        ),
        "card_not_supported": (
            f"ご登録のカードはこの種類のお支払いに対応していないようですので、{_PAGE}で"
            "別のお支払い方法をお試しください。"
        ),
        "processing_error": (
            f"お客様に原因のない一時的な処理の問題でしたので、{_PAGE}でお支払いを完了できます。"
        ),
        "generic_decline": (
            f"銀行から理由の説明なくお支払いが承認されませんでしたので、銀行にお問い合わせいただくか、"
            f"{_PAGE}で別のお支払い方法をご利用ください。"
        ),
        "unknown": f"原因ははっきりしませんが、{_PAGE}でお支払いを完了できます。",
    },
    retry="数日後に自動でもう一度お支払いを試みます。",
    no_retry="ご不明な点があれば、このメールにご返信いただければ喜んでお手伝いいたします。",
    final=(
        "サービスを継続してご利用いただくため、お早めにお支払いいただき、"
        "お困りの際はこのメールにご返信ください。"
    ),
    joiner="",
)
