"""Signing in and out, registering, and a person's own password."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from trainapp.accounts import second_factor, services, session_lifetime
from trainapp.accounts.access import public, signed_in
from trainapp.accounts.forms import (
    AccessRequestForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    RegisterDetailsForm,
    RegisterEmailForm,
    ResetPasswordForm,
    SecurityCodeForm,
    SetUpAuthenticatorForm,
    SignInForm,
)
from trainapp.accounts.models import User
from trainapp.acting import act
from trainapp.errors import DomainError, InvalidToken
from trainapp.extensions import db
from trainapp.forms import ConfirmForm, show_domain_error
from trainapp.security import safe_next

bp = Blueprint("auth", __name__)
# Checked before every request of every page, in this order.
bp.before_app_request(session_lifetime.end_expired_session)
bp.before_app_request(session_lifetime.send_to_set_up)
bp.record_once(lambda state: second_factor.check_setting(state.app.config))

# The address a registration link proved the person reads; only then do the later steps open.
REGISTER_EMAIL_KEY = "register_email"
# The address the first step emailed, for the page that says to check it.
REGISTER_SENT_KEY = "register_sent_to"
AUTHENTICATOR_SETUP_KEY = "authenticator_setup"


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or "unknown")
        except DomainError as error:
            db.session.commit()  # keep the failed attempt, so throttling counts it
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            return _after_password(user, remember=form.remember.data)
    return render_template("accounts/sign_in.html", form=form)


def _after_password(user: User, *, remember: bool):
    """Sign in, or with an authenticator app set up, ask for its code first."""
    next_url = safe_next(url_for("core.home"))
    if user.has_second_factor:
        session_lifetime.hold_for_second_step(user, remember=remember, next_url=next_url)
        return redirect(url_for("auth.second_step"))
    session_lifetime.begin(user, remember=remember)
    if second_factor.must_set_up(user):
        return redirect(url_for("auth.set_up_second_factor"))
    return redirect(next_url)


@bp.route("/sign-in/security-code", methods=["GET", "POST"])
@public
def second_step():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    user = session_lifetime.waiting_for_second_step()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    form = SecurityCodeForm()
    if form.validate_on_submit():
        try:
            second_factor.pass_second_step(user, form.code.data)
        except DomainError as error:
            # Kept, like a failed password: the count of wrong codes is what slows guessing.
            db.session.commit()
            show_domain_error(form, error)
        else:
            db.session.commit()
            return redirect(session_lifetime.finish_second_step(user))
    return render_template("accounts/security_code.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        services.sign_out(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegisterEmailForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.start_registration(form.email.data),
            # The same next page for an address with an account and one without: only the
            # email that arrives differs, so the form never says who is registered.
            then=_remember_where_we_wrote,
            redirect_to=url_for("auth.registration_sent"),
        )
        if response is not None:
            return response
    return render_template("accounts/register_email.html", form=form)


def _remember_where_we_wrote(email: str) -> None:
    session[REGISTER_SENT_KEY] = email


@bp.route("/register/check-email")
@public
def registration_sent():
    email = session.get(REGISTER_SENT_KEY)
    if email is None:
        return redirect(url_for("auth.register"))
    hours = current_app.config["REGISTRATION_LINK_MAX_AGE"] // 3600
    return render_template("accounts/registration_sent.html", email=email, hours=hours)


@bp.route("/register/continue/<token>")
@public
def continue_registration(token: str):
    try:
        email = services.email_from_registration_link(token)
    except InvalidToken as error:
        return render_template("accounts/registration_link_invalid.html", message=error.message), 404
    session[REGISTER_EMAIL_KEY] = email
    if services.agencies_for_domain(services.domain_of(email)):
        return redirect(url_for("auth.register_details"))
    return redirect(url_for("auth.request_access"))


def _registering_email() -> str | None:
    return session.get(REGISTER_EMAIL_KEY)


def _sign_in_afresh(user: User) -> None:
    """A new account starts a new browser session: nothing from before signing in carries over."""
    session_lifetime.begin(user)


def _registered(user: User) -> str:
    assert user.agency is not None, "registering through an agency's domain always gives that agency"
    return f"Your account is ready. You are registered with {user.agency.name}."


def _sign_out_here(_result=None) -> None:
    logout_user()
    session.clear()


@bp.route("/register/details", methods=["GET", "POST"])
@public
def register_details():
    email = _registering_email()
    if email is None:
        return redirect(url_for("auth.register"))
    agencies = services.agencies_for_domain(services.domain_of(email))
    if not agencies:
        return redirect(url_for("auth.request_access"))
    form = RegisterDetailsForm()
    form.agency.choices = [(a.id, a.name) for a in agencies]
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.register(
                email=email,
                name=form.name.data,
                job_title=form.job_title.data,
                password=form.password.data,
                agency_id=form.agency.data,
            ),
            then=_sign_in_afresh,
            success=_registered,
            redirect_to=url_for("core.home"),
        )
        if response is not None:
            return response
    return render_template("accounts/register_details.html", form=form, email=email, several=len(agencies) > 1)


@bp.route("/register/request-access", methods=["GET", "POST"])
@public
def request_access():
    email = _registering_email()
    if email is None:
        return redirect(url_for("auth.register"))
    form = AccessRequestForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.request_access(
                email=email,
                name=form.name.data,
                job_title=form.job_title.data,
                organisation=form.organisation.data,
                password=form.password.data,
            ),
            then=lambda _: session.pop(REGISTER_EMAIL_KEY, None),
            redirect_to=url_for("auth.access_requested"),
        )
        if response is not None:
            return response
    return render_template("accounts/request_access.html", form=form, email=email)


@bp.route("/register/requested")
@public
def access_requested():
    return render_template("accounts/access_requested.html")


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.request_password_reset(form.email.data),
            # The same answer whether or not the account exists.
            success="If an account uses that address, we have emailed it a link to reset the password.",
            redirect_to=url_for("auth.sign_in"),
        )
        if response is not None:
            return response
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    try:
        services.find_reset_token(token)
    except InvalidToken as error:
        return render_template("accounts/reset_invalid.html", message=error.message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.reset_password(token, form.password.data),
            then=_sign_out_here,
            success="Your password has been changed. Sign in with your new password.",
            redirect_to=url_for("auth.sign_in"),
        )
        if response is not None:
            return response
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account")
@signed_in
def account():
    return render_template("accounts/account.html", form=ConfirmForm())


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # The user itself, not the proxy: the audit row records the entity's type.
        user = current_user._get_current_object()
        response = act(
            form,
            lambda: services.change_password(user, current=form.current_password.data, new=form.password.data),
            # Every other session ended with the old token; keep this one going.
            then=lambda _: login_user(user),
            success="Your password has been changed. You have been signed out everywhere else.",
            redirect_to=url_for("auth.account"),
        )
        if response is not None:
            return response
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account/authenticator-app", methods=["GET", "POST"])
@signed_in
def set_up_second_factor():
    if current_user.has_second_factor:
        return redirect(url_for("auth.account"))
    # Kept in the session until it is confirmed, so reloading the page shows the same QR code.
    secret = session.get(AUTHENTICATOR_SETUP_KEY) or second_factor.new_secret()
    session[AUTHENTICATOR_SETUP_KEY] = secret
    form = SetUpAuthenticatorForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            codes = second_factor.enrol(user, secret, form.code.data)
        except DomainError as error:
            # enrol refuses before it changes anything, so there is nothing to roll back.
            show_domain_error(form, error)
        else:
            db.session.commit()
            session.pop(AUTHENTICATOR_SETUP_KEY, None)
            # Shown in the answer to this POST, not after a redirect: the codes never go into
            # the session cookie or a URL, and this is the only time they are shown.
            return render_template("accounts/recovery_codes.html", codes=codes)
    return render_template(
        "accounts/set_up_second_factor.html",
        form=form,
        qr_code=second_factor.qr_code_svg(current_user, secret),
        secret=second_factor.grouped(secret),
        required=second_factor.is_required_for(current_user),
    )
